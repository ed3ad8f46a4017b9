/**
 * Whether the Paloma API answers, as seen by the calls the page makes. Every call reports here
 * (through the client's middleware); the banner reads it. It recovers by itself: the next
 * successful call clears the problem.
 */
export type ApiHealth =
  | { state: "ok" }
  /** No answer at all: network down, the proxy could not reach the API (502), or a gateway timeout. */
  | { state: "unreachable" }
  /** The API answers but a dependency (database, queue) is down (503). */
  | { state: "unavailable" };

type Listener = () => void;

export class ApiStatusStore {
  private health: ApiHealth = { state: "ok" };
  private readonly listeners = new Set<Listener>();

  subscribe = (listener: Listener): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getSnapshot = (): ApiHealth => this.health;

  /** Classifies a response's status: only gateway-style failures change the state. */
  reportResponse(status: number): void {
    if (status === 502 || status === 504) this.set({ state: "unreachable" });
    else if (status === 503) this.set({ state: "unavailable" });
    else this.set({ state: "ok" });
  }

  /** A call threw before any response (the network or the server is down). */
  reportNetworkError(): void {
    this.set({ state: "unreachable" });
  }

  private set(next: ApiHealth): void {
    if (next.state === this.health.state) return;
    this.health = next;
    for (const listener of this.listeners) listener();
  }
}

/** The one store the app's client reports to. */
export const apiStatus = new ApiStatusStore();
