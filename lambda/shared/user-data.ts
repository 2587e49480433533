/**
 * The two lines of an instance's user data that say what it runs (platform "asg"): the construct writes them
 * (lib/constructs/color-environment.ts), a release rewrites them in a new launch template version
 * (lambda/adapters/asg-fleet.ts). One definition, so the two can never disagree.
 */
const IMAGE_LINE = /^BLUEGREEN_IMAGE=(.*)$/m;
const VERSION_LINE = /^BLUEGREEN_VERSION=(.*)$/m;

/** A value as one single-quoted shell word. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

export function imageLine(image: string): string {
  return `BLUEGREEN_IMAGE=${shellQuote(image)}`;
}

export function versionLine(version: string): string {
  return `BLUEGREEN_VERSION=${shellQuote(version)}`;
}

/** The script with its image and version lines set, or undefined when it has no such lines. */
export function withRelease(script: string, image: string, version: string): string | undefined {
  if (!IMAGE_LINE.test(script) || !VERSION_LINE.test(script)) {
    return undefined;
  }
  return script.replace(IMAGE_LINE, imageLine(image)).replace(VERSION_LINE, versionLine(version));
}

/** The image a script runs, per its image line. */
export function imageIn(script: string): string | undefined {
  return IMAGE_LINE.exec(script)?.[1].replace(/^'|'$/g, '');
}
