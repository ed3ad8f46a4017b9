import { formatRate } from "@/lib/format";
import { chartTop, linePoints, RATE_WINDOW_MS, type RateSample } from "@/lib/send-rate";

/** The drawing's coordinates (it is stretched to the box's width). */
const WIDTH = 600;
const HEIGHT = 120;

/**
 * The messages per second of all the workers together over the last minutes, one sample per
 * read of the queue: a line in an SVG (no canvas, so it renders on the server too), with a
 * caption that says what it shows in words. Its box has the same height with or without samples.
 */
export function SendRateChart({ samples }: { samples: readonly RateSample[] }) {
  const minutes = Math.round(RATE_WINDOW_MS / 60_000);
  const last = samples[samples.length - 1];
  const top = chartTop(samples);
  const points = linePoints(samples, top, WIDTH, HEIGHT);
  const peak = samples.reduce((max, s) => Math.max(max, s.perSecond), 0);
  return (
    <figure>
      <div className="flex gap-2">
        <div
          aria-hidden="true"
          className="flex h-32 w-14 shrink-0 flex-col justify-between text-right text-xs text-slate-600 tabular-nums"
        >
          <span>{formatRate(top)}</span>
          <span>0 / s</span>
        </div>
        <div className="min-w-0 flex-1">
          <svg
            data-testid="send-rate-chart"
            data-samples={samples.length}
            aria-hidden="true"
            viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
            preserveAspectRatio="none"
            // Visible overflow: a line at 0 / s (the bottom edge) is drawn whole, not half.
            className="block h-32 w-full overflow-visible rounded-md bg-slate-50"
          >
            {[0.25, 0.5, 0.75].map((f) => (
              <line
                key={f}
                x1={0}
                x2={WIDTH}
                y1={HEIGHT * f}
                y2={HEIGHT * f}
                stroke="#e2e8f0"
                strokeWidth={1}
                vectorEffect="non-scaling-stroke"
              />
            ))}
            {samples.length > 1 && (
              <polyline
                points={points}
                fill="none"
                stroke="#1d4ed8"
                strokeWidth={2}
                strokeLinejoin="round"
                vectorEffect="non-scaling-stroke"
              />
            )}
            {samples.length === 1 && last && (
              // One sample is a point, not a line yet.
              <circle
                cx={WIDTH}
                cy={HEIGHT - (Math.min(last.perSecond, top) / top) * HEIGHT}
                r={3}
                fill="#1d4ed8"
              />
            )}
          </svg>
          <div aria-hidden="true" className="mt-1 flex justify-between text-xs text-slate-600">
            <span>{minutes} min ago</span>
            <span>now</span>
          </div>
        </div>
      </div>
      <figcaption className="mt-2 min-h-5 text-xs text-slate-600" data-testid="send-rate-caption">
        {last
          ? `Messages per second, all workers together, over the last ${minutes} minutes: ${formatRate(last.perSecond)} now, at most ${formatRate(peak)}.`
          : "Waiting for the first reading of the workers."}
      </figcaption>
    </figure>
  );
}
