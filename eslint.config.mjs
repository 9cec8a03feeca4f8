import tseslint from "typescript-eslint";

const barrelImports = {
  paths: [
    {
      name: "@cdktf/provider-aws",
      message:
        "Import the resource module instead, e.g. @cdktf/provider-aws/lib/s3-bucket (the barrel costs ~2 s and ~500 MiB per process).",
    },
    {
      name: "@cdktf/provider-kubernetes",
      message: "Import the resource module instead, e.g. @cdktf/provider-kubernetes/lib/namespace-v1.",
    },
    {
      name: "@cdktf/provider-helm",
      message: "Import the resource module instead, e.g. @cdktf/provider-helm/lib/release.",
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "cdktf.out/",
      "dist/",
      "coverage/",
      "docs/api/",
      "examples/*/node_modules/",
      "examples/*/cdktf.out/",
      "**/*.js",
      "**/*.mjs",
      "**/*.cjs",
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      "no-restricted-imports": ["error", barrelImports],
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='localeCompare']",
          message:
            "localeCompare follows the machine's locale, so what it orders can differ between machines: use compareCodeUnits from constructs/core/order.ts.",
        },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
);
