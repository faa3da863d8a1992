// ESLint over ui/src: JavaScript's and typescript-eslint's recommended rules, Svelte's
// own (eslint-plugin-svelte, which parses .svelte files and runes in .svelte.ts), and
// nothing that formatting decides: prettier owns that (`npm run format:check`).
import js from "@eslint/js";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import ts from "typescript-eslint";
import svelteConfig from "./svelte.config.js";

export default ts.config(
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  ...svelte.configs.prettier,
  { languageOptions: { globals: { ...globals.browser } } },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: [".svelte"], svelteConfig } },
  },
  {
    rules: {
      // `void promise` marks a call whose promise is handled elsewhere (or deliberately not).
      "no-void": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  // Generated from the Rust commands; the bindings_are_fresh test guards it.
  { ignores: ["dist/", "src/lib/backend/bindings.ts"] },
);
