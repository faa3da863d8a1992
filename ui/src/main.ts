import { mount } from "svelte";
import App from "./App.svelte";
import "./app.css";
import { theme } from "./lib/shell/theme-state.svelte";

const target = document.getElementById("app");
if (!target) throw new Error("index.html has no #app element");

// Before the first paint, so the app never flashes the other theme.
theme.start();

export default mount(App, { target });
