/** The merge tags every message has. */
export const BUILT_IN_TAGS = ["email", "name", "unsubscribe_url"] as const;

function Tag({ name }: { name: string }) {
  return <code className="rounded bg-slate-100 px-1 whitespace-nowrap text-slate-800">{`{{ ${name} }}`}</code>;
}

/**
 * The merge tags one can write in the subject and the body now: the built-in ones and the
 * uploaded CSV's fields, with how to give a default for a recipient who has no value.
 */
export function MergeTagHint({ id, fields }: { id: string; fields: readonly string[] }) {
  return (
    <p id={id} className="mt-0.5 text-xs leading-relaxed text-slate-600">
      Merge tags, in the subject and body:{" "}
      {BUILT_IN_TAGS.map((t, i) => (
        <span key={t}>
          {i > 0 && ", "}
          <Tag name={t} />
        </span>
      ))}
      {fields.length > 0 ? (
        <>
          {", and from the CSV "}
          {fields.map((f, i) => (
            <span key={f}>
              {i > 0 && ", "}
              <Tag name={f} />
            </span>
          ))}
        </>
      ) : (
        ", and a CSV's other columns"
      )}
      . A tag with no value for some recipient is refused unless it has a default:{" "}
      <Tag name={'name | default("there")'} />.
    </p>
  );
}
