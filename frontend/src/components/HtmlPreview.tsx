interface Props {
  html: string;
  title: string;
  className?: string;
}

/** What can take focus in an email: links, form controls, media with controls, editable parts. */
const FOCUSABLE =
  "a[href], area[href], button, input, select, textarea, iframe, object, embed, summary, " +
  "audio[controls], video[controls], [tabindex], [contenteditable]";
const MAYBE_FOCUSABLE = /<(a|area|button|input|select|textarea|iframe|object|embed|summary|audio|video)\b|tabindex|contenteditable/i;

/**
 * `html` with every element that could take focus taken out of the tab order (`tabindex="-1"`),
 * so that a preview's links are not tab stops of the page. It stays as it is where nothing could
 * take focus, and outside the browser (no `DOMParser`).
 */
export function withoutTabStops(html: string): string {
  if (!MAYBE_FOCUSABLE.test(html) || typeof DOMParser === "undefined") return html;
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const element of doc.querySelectorAll(FOCUSABLE)) element.setAttribute("tabindex", "-1");
  return `<!DOCTYPE html>${doc.documentElement.outerHTML}`;
}

/**
 * Renders untrusted HTML in a fully sandboxed iframe (`sandbox=""`: no scripts, no forms, no
 * same-origin access), never in the page's own DOM. It is out of the tab order, itself and what
 * it shows: a preview is to be looked at (and scrolled with the mouse), and an email's dozen
 * links would otherwise be a dozen Tab presses to get past it.
 */
export function HtmlPreview({ html, title, className = "h-96" }: Props) {
  return (
    <iframe
      title={title}
      sandbox=""
      srcDoc={withoutTabStops(html)}
      referrerPolicy="no-referrer"
      tabIndex={-1}
      className={`block w-full rounded-md border border-slate-200 bg-white ${className}`}
    />
  );
}
