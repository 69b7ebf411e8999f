/**
 * Scripts evaluated inside the viewer's webview frame. Plain JavaScript strings: the project's
 * Node tsconfig has no DOM lib, and pulling it in for these few lines would hide DOM use in host
 * code. Each walks open shadow roots, where the viewer's elements live.
 */

/** Every text node under <body>, shadow roots included, joined by newlines. */
export const DEEP_TEXT = `(() => {
  const parts = [];
  const walk = (n) => {
    if (n.nodeType === Node.TEXT_NODE) parts.push(n.textContent || '');
    if (n.nodeType === Node.ELEMENT_NODE && n.shadowRoot) walk(n.shadowRoot);
    for (const c of Array.from(n.childNodes)) walk(c);
  };
  walk(document.body);
  return parts.join('\\n');
})()`;

/** `<tag on…>` for every element carrying an inline event handler attribute. */
export const INLINE_HANDLERS = `(() => {
  const found = [];
  const walk = (root) => {
    for (const el of Array.from(root.querySelectorAll('*'))) {
      for (const a of Array.from(el.attributes)) if (/^on/i.test(a.name)) found.push('<' + el.localName + ' ' + a.name + '>');
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
})()`;

/** Natural size of the first loaded <img> in the viewer, or null. */
export const LOADED_IMAGE_SIZE = `(() => {
  const find = (root) => {
    for (const el of Array.from(root.querySelectorAll('*'))) {
      if (el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0) return el;
      const inner = el.shadowRoot ? find(el.shadowRoot) : null;
      if (inner) return inner;
    }
    return null;
  };
  const img = find(document);
  return img ? { w: img.naturalWidth, h: img.naturalHeight } : null;
})()`;

/** Appends an <img> from a remote host: the webview's CSP must block and report it. */
export const CSP_CANARY = `(() => {
  const img = document.createElement('img');
  img.src = 'https://example.invalid/csp-canary.png';
  document.body.append(img);
})()`;
