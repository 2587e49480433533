/** A port whose implementation is loaded on its first call (every port method is async). */
export function lazy<T extends object>(load: () => Promise<T>): T {
  let loaded: Promise<T> | undefined;
  return new Proxy({} as T, {
    get:
      (_target, method) =>
      (...args: unknown[]) =>
        (loaded ??= load()).then((port) =>
          (port as Record<PropertyKey, (...a: unknown[]) => unknown>)[method].apply(port, args),
        ),
  });
}
