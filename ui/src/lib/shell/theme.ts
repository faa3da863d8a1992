/** The moderator's theme choice; "system" follows the OS. */
export type ThemePreference = "system" | "light" | "dark";
export type Theme = "light" | "dark";

const STORAGE_KEY = "steward.theme";

export function readThemePreference(storage: Pick<Storage, "getItem"> | undefined): ThemePreference {
  const stored = storage?.getItem(STORAGE_KEY);
  return stored === "light" || stored === "dark" || stored === "system" ? stored : "system";
}

export function resolveTheme(preference: ThemePreference, systemPrefersDark: boolean): Theme {
  if (preference === "system") return systemPrefersDark ? "dark" : "light";
  return preference;
}

/** The next choice when the moderator toggles: light -> dark -> system -> light. */
export function nextThemePreference(current: ThemePreference): ThemePreference {
  return current === "light" ? "dark" : current === "dark" ? "system" : "light";
}

/**
 * Applies a theme to the document: the CSS tokens hang off `data-theme` on <html>, so
 * the app's choice wins over the OS's in both directions.
 */
export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  document.documentElement.style.colorScheme = theme;
}

export function saveThemePreference(storage: Pick<Storage, "setItem"> | undefined, preference: ThemePreference): void {
  try {
    storage?.setItem(STORAGE_KEY, preference);
  } catch {
    // Storage can be unavailable; the choice then lasts for this window only.
  }
}
