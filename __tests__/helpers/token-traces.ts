/**
 * Jest setup: cdktf's token creation traces are not formatted in tests either (through jest's source maps,
 * they took half the time of a test that synthesizes an environment). Test failures keep jest's format.
 */
import { skipTokenCreationTraces } from "../../stacks/token-traces";

skipTokenCreationTraces();
