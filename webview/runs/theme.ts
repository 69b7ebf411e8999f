/** Colours and font from the editor's theme (`--vscode-*` variables), read when drawing. */
export function themeVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export const chartColours = () => ({
  line: themeVar('--vscode-charts-blue', '#3794ff'),
  memory: themeVar('--vscode-charts-purple', '#b180d7'),
  text: themeVar('--vscode-descriptionForeground', '#9d9d9d'),
  grid: themeVar('--vscode-editorWidget-border', '#454545'),
  font: themeVar('--vscode-font-family', 'sans-serif'),
});
