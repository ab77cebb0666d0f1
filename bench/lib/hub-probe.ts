/**
 * Probes the benchmarks that start hub processes share: readiness over HTTPS on loopback.
 */
import { get } from "node:https";

/** One GET of /readyz on loopback; the hub's self-signed certificate is not checked here. */
export function readyz(port: number): Promise<boolean> {
  return new Promise((done) => {
    const req = get(
      { host: "127.0.0.1", port, path: "/readyz", rejectUnauthorized: false, agent: false },
      (res) => {
        res.resume();
        done(res.statusCode === 200);
      },
    );
    req.once("error", () => done(false));
    req.setTimeout(2000, () => req.destroy());
  });
}
