// Imported first by the rehearsal's entry points: the step handlers' structured logs (Powertools) would drown
// the progress lines, which already show each state, error and cause.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
