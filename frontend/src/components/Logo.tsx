/** Paloma's envelope and name. */
export function Logo() {
  return (
    <span className="flex items-center gap-2 text-lg font-bold tracking-tight text-slate-900">
      <svg aria-hidden="true" viewBox="0 0 24 24" className="size-6 text-blue-700 sm:size-7">
        <path
          fill="currentColor"
          d="M2.5 5.5A2.5 2.5 0 0 1 5 3h14a2.5 2.5 0 0 1 2.5 2.5v13A2.5 2.5 0 0 1 19 21H5a2.5 2.5 0 0 1-2.5-2.5v-13Zm2.2.1 6.7 5.6a1 1 0 0 0 1.2 0l6.7-5.6a.9.9 0 0 0-.3-.1H5a.9.9 0 0 0-.3.1Zm14.8 1.9-6 5a2.5 2.5 0 0 1-3.1 0l-6-5v11A.5.5 0 0 0 5 19h14a.5.5 0 0 0 .5-.5v-11Z"
        />
      </svg>
      Paloma
    </span>
  );
}
