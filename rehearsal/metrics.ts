/**
 * The rehearsal's TrafficMetrics: per-color counts of the production traffic the local load balancer forwarded,
 * what CloudWatch's AWS/ApplicationELB metrics per target group are in AWS (RequestCount, HTTPCode_Target_5XX_Count,
 * TargetResponseTime), from the router's own samples.
 *
 * - Users' traffic only (the production listener's). In AWS a target group's metrics also count what the test
 *   listener sent it (validation's requests); here the comparison sees exactly what users saw.
 * - A request counts in the window it started in (when the router received it), and is known once its answer
 *   has ended. So a window's data is complete once every request started in it has ended: `settleSeconds` (1) is
 *   the rehearsal's bound on that. The sample app answers in milliseconds (its `slow` misbehaviour in 800 ms),
 *   and the rehearsal's latency alarm fires at 1 s, so a request still running a second after its window ended
 *   is already a failure the alarms see; it would be counted in its window only when it ends.
 * - Errors are what the router's alarms count: answers with status 500 or more, including 502 for a target
 *   that answered nothing (refused, reset, died half-way). A request the client gave up on (499) is a request,
 *   not an error, as in ALB's target 5xx count.
 * - The latency is the `percentile` (99 → p99) by nearest rank of the times from receiving the request to the end
 *   of its answer, in ms.
 * - Windows are whole seconds (`periodSeconds` 1) in AWS terms; here the counts are exact for any [start, end).
 */
import type { ColorWindow } from '../lambda/shared/analysis';
import type { TrafficMetrics } from '../lambda/shared/ports';
import type { Color } from '../lambda/shared/release-record';
import { nearestRank } from './load';
import type { LocalRouter } from './router';

export class RouterTrafficMetrics implements TrafficMetrics {
  readonly periodSeconds = 1;
  readonly settleSeconds = 1;

  constructor(private readonly router: LocalRouter) {}

  window(color: Color, start: Date, end: Date, percentile: number): Promise<ColorWindow> {
    if (!(end.getTime() >= start.getTime())) {
      return Promise.reject(
        new RangeError(
          `a metrics window ends before it starts (${start.toISOString()} to ${end.toISOString()})`,
        ),
      );
    }
    if (!(percentile > 0 && percentile <= 100)) {
      return Promise.reject(
        new RangeError(`the latency percentile must be above 0 and at most 100 (got ${percentile})`),
      );
    }
    const samples = this.router.samplesStartedIn(color, start.getTime(), end.getTime());
    return Promise.resolve({
      requests: samples.length,
      errors: samples.filter((s) => s.status >= 500).length,
      ...(samples.length > 0
        ? {
            latencyMs: nearestRank(
              samples.map((s) => s.latencyMs),
              percentile / 100,
            ),
          }
        : {}),
    });
  }
}
