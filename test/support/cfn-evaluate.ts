import type { CfnTemplate } from './synth';

/**
 * What CloudFormation would write for a template, given the values its parameters resolve to at deploy time
 * (for SSM parameter types: what the parameters hold in SSM at that moment).
 *
 * Evaluates the intrinsics that decide values (Ref to a parameter, Conditions with Fn::Equals/Not/And/Or,
 * Fn::If (both branches resolved, the condition's one returned), Fn::Join of resolved strings, Fn::Split and Fn::Select, Fn::Contains in Rules). Like CloudFormation,
 * it yields strings for values taken from parameters ("900" from Fn::Select on a split parameter). References to resources do not depend on the
 * deploy's parameter values: they are left as they are, or, with `placeholders`, written as "<Ref X>" /
 * "<X.Attr>" so that strings built from them can be read.
 */
export class CfnEvaluator {
  private readonly conditions = new Map<string, boolean>();

  constructor(
    private readonly template: CfnTemplate,
    private readonly parameters: Readonly<Record<string, string>>,
    private readonly options: { placeholders?: boolean } = {},
  ) {
    for (const name of Object.keys(template.Parameters ?? {})) {
      if (!(name in parameters) && name !== 'BootstrapVersion') {
        throw new Error(`no deploy-time value given for parameter ${name}`);
      }
    }
  }

  /** The resolved properties of one resource. */
  resource(logicalId: string): Record<string, unknown> {
    const r = this.template.Resources[logicalId];
    if (!r) {
      throw new Error(`no resource ${logicalId}`);
    }
    return this.value(r.Properties ?? {}) as Record<string, unknown>;
  }

  /** The Rules whose assertions fail: CloudFormation refuses the deploy with their descriptions. */
  failedRules(): string[] {
    return Object.values(this.template.Rules ?? {}).flatMap((rule) =>
      rule.Assertions.filter((a) => this.value(a.Assert) !== true).map((a) => a.AssertDescription),
    );
  }

  condition(name: string): boolean {
    let result = this.conditions.get(name);
    if (result === undefined) {
      const expression = this.template.Conditions?.[name];
      if (expression === undefined) {
        throw new Error(`no condition ${name}`);
      }
      result = this.value(expression) === true;
      this.conditions.set(name, result);
    }
    return result;
  }

  value(v: unknown): unknown {
    if (Array.isArray(v)) {
      return v.map((x) => this.value(x));
    }
    if (typeof v !== 'object' || v === null) {
      return v;
    }
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0];
      switch (fn) {
        case 'Ref': {
          const name = arg as string;
          if (name in this.parameters) {
            return this.parameters[name];
          }
          return this.options.placeholders ? `<Ref ${name}>` : v;
        }
        case 'Fn::GetAtt':
          return this.options.placeholders ? `<${(arg as string[]).join('.')}>` : v;
        case 'Condition':
          return this.condition(arg as string);
        case 'Fn::If': {
          // Whether CloudFormation resolves the branch not taken is not documented: resolving it too here keeps a
          // template safe under both readings (an Fn::Select out of bounds there fails; hence the padding in
          // lib/constructs/color-scaling.ts).
          const [name, whenTrue, whenFalse] = arg as [string, unknown, unknown];
          const [taken, other] = this.condition(name) ? [whenTrue, whenFalse] : [whenFalse, whenTrue];
          this.value(other);
          return this.value(taken);
        }
        case 'Fn::Equals': {
          const [a, b] = (arg as unknown[]).map((x) => this.value(x));
          return JSON.stringify(a) === JSON.stringify(b);
        }
        case 'Fn::Not':
          return !(this.value((arg as unknown[])[0]) as boolean);
        case 'Fn::And':
          return (arg as unknown[]).every((x) => this.value(x) === true);
        case 'Fn::Or':
          return (arg as unknown[]).some((x) => this.value(x) === true);
        case 'Fn::Contains': {
          const [list, item] = (arg as unknown[]).map((x) => this.value(x));
          return (list as unknown[]).some((x) => JSON.stringify(x) === JSON.stringify(item));
        }
        case 'Fn::Split': {
          // CloudFormation splits a resolved string; an unresolved source (a resource's attribute) stays as it is.
          const [delimiter, source] = arg as [string, unknown];
          const resolved = this.value(source);
          return typeof resolved === 'string'
            ? resolved.split(delimiter)
            : { 'Fn::Split': [delimiter, resolved] };
        }
        case 'Fn::Select': {
          const [index, list] = (arg as [unknown, unknown]).map((x) => this.value(x));
          if (!Array.isArray(list)) {
            return { 'Fn::Select': [index, list] };
          }
          const i = Number(index);
          if (!Number.isInteger(i) || i < 0 || i >= list.length) {
            // CloudFormation fails the stack operation here (it does not check bounds before resolving).
            throw new Error(`Fn::Select: index ${String(index)} out of bounds of ${JSON.stringify(list)}`);
          }
          return list[i] as unknown;
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          const resolved = parts.map((p) => this.value(p));
          return resolved.every((p) => typeof p === 'string' || typeof p === 'number')
            ? resolved.join(separator)
            : { 'Fn::Join': [separator, resolved] };
        }
        default:
          break;
      }
    }
    return Object.fromEntries(entries.map(([k, x]) => [k, this.value(x)]));
  }
}
