/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";

// Tauri loads the dev server from a fixed URL (devUrl), so the port must not drift,
// and the production build is served from the app's own origin, so assets stay local.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: { port: 5173, strictPort: true, host: "localhost" },
  // WebKitGTK 2.50 on Linux, WKWebView on macOS 12+ and WebView2 all handle safari15 output.
  build: { target: "safari15", outDir: "dist", emptyOutDir: true },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
