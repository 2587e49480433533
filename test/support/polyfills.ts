// aws-local-stepfunctions 3 targets Node 22 (Promise.withResolvers); this machine and CI run Node 20.
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
// The steps log structured JSON (Powertools); keep test output readable.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
