import {
  applyTheme,
  nextThemePreference,
  readThemePreference,
  resolveTheme,
  saveThemePreference,
  type Theme,
  type ThemePreference,
} from "./theme";

function storage(): Storage | undefined {
  try {
    return typeof localStorage === "undefined" ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

/** The app's one theme state: the moderator's choice and what it resolves to now. */
class ThemeState {
  preference = $state<ThemePreference>("system");
  systemDark = $state(false);
  readonly resolved: Theme = $derived(resolveTheme(this.preference, this.systemDark));

  start() {
    this.preference = readThemePreference(storage());
    const media = typeof matchMedia === "undefined" ? null : matchMedia("(prefers-color-scheme: dark)");
    this.systemDark = media?.matches ?? false;
    media?.addEventListener("change", (event) => {
      this.systemDark = event.matches;
      applyTheme(this.resolved);
    });
    applyTheme(this.resolved);
  }

  set(preference: ThemePreference) {
    this.preference = preference;
    saveThemePreference(storage(), preference);
    applyTheme(this.resolved);
  }

  cycle() {
    this.set(nextThemePreference(this.preference));
  }
}

export const theme = new ThemeState();
