/**
 * The release record: the durable SSM parameters that say which color is live and what each color runs.
 *
 * Shared by the CDK app (which creates the parameters once and renders the stack from them) and by the
 * release workflow's step handlers (which read and write them). One place for the names, so the two can
 * never disagree.
 */

export const COLORS = ['blue', 'green'] as const;
export type Color = (typeof COLORS)[number];

export function isColor(value: unknown): value is Color {
  return value === 'blue' || value === 'green';
}

/** The other color: the idle one when `color` is live, and the other way round. */
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

/** Every parameter lives under this prefix, so IAM policies can be scoped to one app's record. */
export function recordPrefix(appName: string): string {
  return `/bluegreen/${appName}`;
}

export interface RecordParameterNames {
  /** `blue` or `green`: the color the production listener forwards to. */
  readonly liveColor: string;
  /** Per color, the full image reference (`repository:tag` or `repository@sha256:...`) it runs. */
  readonly image: Readonly<Record<Color, string>>;
  /**
   * The production listener's weights as the release workflow last set them, `<blue>,<green>` ("900,100": blue
   * 90%, green 10%). Absent (a record from before gradual shifts): all on the live color.
   */
  readonly weights: string;
  /**
   * Per color, its scaling bounds as the release workflow last set them: `auto` or `<min>,<max>`
   * (lambda/shared/scaling.ts). Created `auto` for both colors.
   */
  readonly capacity: Readonly<Record<Color, string>>;
}

export function recordParameterNames(appName: string): RecordParameterNames {
  const prefix = recordPrefix(appName);
  return {
    liveColor: `${prefix}/live-color`,
    image: { blue: `${prefix}/blue/image`, green: `${prefix}/green/image` },
    weights: `${prefix}/production-weights`,
    capacity: { blue: `${prefix}/blue/capacity`, green: `${prefix}/green/capacity` },
  };
}

/** The weights parameter's value: `<blue>,<green>`, each a listener weight (0-999). */
export function formatRecordWeights(weights: Readonly<Record<Color, number>>): string {
  return `${weights.blue},${weights.green}`;
}

/**
 * Reads a weights parameter's value back; undefined unless it is `<blue>,<green>`, each a whole number from 0 to
 * 999 (ALB's range), and not both 0 (that would send users nowhere).
 */
export function parseRecordWeights(value: string): Record<Color, number> | undefined {
  const match = /^(\d{1,3}),(\d{1,3})$/.exec(value);
  if (!match) {
    return undefined;
  }
  const weights = { blue: Number(match[1]), green: Number(match[2]) };
  return weights.blue + weights.green > 0 ? weights : undefined;
}

/** The migration record (migrations only): a JSON parameter next to the record, written by the release workflow. */
export function migrationParameterName(appName: string): string {
  return `${recordPrefix(appName)}/migrations`;
}

/** `repository:tag`, or `repository@sha256:...` when the tag is a digest. */
export function imageReference(repository: string, tagOrDigest: string): string {
  return tagOrDigest.startsWith('sha256:') ? `${repository}@${tagOrDigest}` : `${repository}:${tagOrDigest}`;
}
