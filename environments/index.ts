/**
 * `mlops-platform/environments`: the environment schema (zod), its tier defaults and the loader that
 * reports problems as `file:line:col path: message`.
 */
export * from "./schema";
export * from "./tier";
export * from "./load";
export { environmentJsonSchema } from "./json-schema";
