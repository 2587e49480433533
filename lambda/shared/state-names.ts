/**
 * The names of the release state machine's states, as operators read them in the Step Functions console. Shared
 * by the construct that builds the state machine and by the CLI, which follows executions by these names.
 */
export const STATES = {
  start: 'Start',
  prepare: 'Prepare',
  deploy: 'Deploy to idle color',
  waitForIdle: 'Wait for idle color',
  checkIdle: 'Check idle color',
  idleReady: 'Idle color ready?',
  validate: 'Validate idle color',
  approval: 'Wait for approval',
  approvalTimedOut: 'Approval timed out',
  approvedOnTimeout: 'Approved on timeout',
  switch: 'Switch traffic',
  bakeWait: 'Bake: wait',
  watch: 'Check new live color',
  baked: 'Bake done?',
  waitBeforeScaleDown: 'Keep old color warm',
  finish: 'Finish',
  released: 'Released',
  refuse: 'Refuse',
  refused: 'Release refused',
  abort: 'Abort',
  aborted: 'Aborted',
  abortFailed: 'Abort cleanup failed',
  rollback: 'Roll back',
  rolledBack: 'Rolled back',
  reportRollbackFailure: 'Report failed rollback',
  rollbackFailed: 'Rollback failed',
  finishFailed: 'Finish cleanup failed',
  // Database migrations (only when configured)
  contractPending: 'Previous contract pending?',
  scaleDownIdle: 'Scale idle color down',
  previousContract: 'Contract database (previous release)',
  previousContractFailed: 'Previous contract failed',
  recordContract: 'Record contract',
  register: 'Register new revision',
  expand: 'Expand database',
  expandFailed: 'Expand failed',
  backfill: 'Backfill database',
  backfillFailed: 'Backfill failed',
  scaleDownOld: 'Scale old color down',
  contract: 'Contract database',
  contractFailed: 'Contract failed',
  scaleDownFailed: 'Scale-down failed',
  reportContractFailure: 'Report contract failure',
  liveContractFailed: 'Live, contract failed',
} as const;

export type StateName = (typeof STATES)[keyof typeof STATES];

/** The states only a workflow with database migrations has. */
export const MIGRATION_STATES: readonly StateName[] = [
  STATES.contractPending,
  STATES.scaleDownIdle,
  STATES.previousContract,
  STATES.previousContractFailed,
  STATES.recordContract,
  STATES.register,
  STATES.expand,
  STATES.expandFailed,
  STATES.backfill,
  STATES.backfillFailed,
  STATES.scaleDownOld,
  STATES.contract,
  STATES.contractFailed,
  STATES.scaleDownFailed,
  STATES.reportContractFailure,
  STATES.liveContractFailed,
];

/** Where a release stands, as far as rolling it back by hand is concerned. */
export type Phase = 'before-switch' | 'switching' | 'after-switch' | 'finishing' | 'ending';

const PHASES: Readonly<Record<StateName, Phase>> = {
  [STATES.start]: 'before-switch',
  [STATES.prepare]: 'before-switch',
  [STATES.deploy]: 'before-switch',
  [STATES.waitForIdle]: 'before-switch',
  [STATES.checkIdle]: 'before-switch',
  [STATES.idleReady]: 'before-switch',
  [STATES.validate]: 'before-switch',
  [STATES.approval]: 'before-switch',
  [STATES.approvalTimedOut]: 'before-switch',
  [STATES.approvedOnTimeout]: 'before-switch',
  [STATES.switch]: 'switching',
  [STATES.bakeWait]: 'after-switch',
  [STATES.watch]: 'after-switch',
  [STATES.baked]: 'after-switch',
  [STATES.waitBeforeScaleDown]: 'after-switch',
  [STATES.finish]: 'finishing',
  [STATES.released]: 'ending',
  [STATES.refuse]: 'ending',
  [STATES.refused]: 'ending',
  [STATES.abort]: 'ending',
  [STATES.aborted]: 'ending',
  [STATES.abortFailed]: 'ending',
  [STATES.rollback]: 'ending',
  [STATES.rolledBack]: 'ending',
  [STATES.reportRollbackFailure]: 'ending',
  [STATES.rollbackFailed]: 'ending',
  [STATES.finishFailed]: 'ending',
  [STATES.contractPending]: 'before-switch',
  [STATES.scaleDownIdle]: 'before-switch',
  [STATES.previousContract]: 'before-switch',
  [STATES.previousContractFailed]: 'ending',
  [STATES.recordContract]: 'before-switch',
  [STATES.register]: 'before-switch',
  [STATES.expand]: 'before-switch',
  [STATES.expandFailed]: 'ending',
  [STATES.backfill]: 'before-switch',
  [STATES.backfillFailed]: 'ending',
  // The old color goes down for the contract: from here on there is no way back.
  [STATES.scaleDownOld]: 'finishing',
  [STATES.contract]: 'finishing',
  [STATES.contractFailed]: 'ending',
  [STATES.scaleDownFailed]: 'ending',
  [STATES.reportContractFailure]: 'ending',
  [STATES.liveContractFailed]: 'ending',
};

/** The phase of a state (unknown names, such as "... (cleanup failed)", are endings). */
export function phaseOf(state: string): Phase {
  return (PHASES as Record<string, Phase>)[state] ?? 'ending';
}
