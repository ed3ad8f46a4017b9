interface Props {
  html: string;
  title: string;
  className?: string;
}

/**
 * Renders untrusted HTML in a fully sandboxed iframe (`sandbox=""`: no scripts, no forms, no
 * same-origin access), never in the page's own DOM.
 */
export function HtmlPreview({ html, title, className = "h-96" }: Props) {
  return (
    <iframe
      title={title}
      sandbox=""
      srcDoc={html}
      referrerPolicy="no-referrer"
      className={`block w-full rounded-md border border-slate-200 bg-white ${className}`}
    />
  );
}
