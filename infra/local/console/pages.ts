/** The two HTML documents the server writes: the console's shell, and the refusal without a token. */

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The single page every view lives in (views are chosen by the URL fragment, so reloading any view
 * loads this same document). The script builds the DOM; nothing from the store is in this HTML.
 */
export function shellPage(options: { title: string }): string {
  const title = escapeHtml(options.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/assets/console.css">
<script defer src="/assets/console.js"></script>
</head>
<body>
<noscript>The fleet console needs JavaScript.</noscript>
<div id="app" aria-live="polite"></div>
</body>
</html>
`;
}

/** Short page for a request without the token. */
export function unauthorizedPage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>401 - token required</title></head>
<body>
<h1>Token required</h1>
<p>This console needs the access token printed by <code>npm start</code>.
Open the full URL it printed (it ends in <code>?token=...</code>).</p>
</body>
</html>
`;
}
