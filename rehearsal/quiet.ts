// Imported first by the rehearsal's entry point: the step handlers' structured logs (Powertools) would drown the
// progress lines; warnings and errors still show.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
