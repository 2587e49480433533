import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { ReleaseErrors } from '../../lambda/shared/errors';
import type { MigrationPhase } from '../../lambda/shared/release';
import { STATES } from '../../lambda/shared/state-names';
import { MIGRATION_CONTAINER, type MigrationTasks } from './migration-tasks';
import type { StateHelpers, StepFunctions } from './workflow-states';

/** The migration phases' entry points, each returning the first state of its part of the workflow. */
export interface MigrationPhases {
  readonly start: (deploy: sfn.IChainable, abort: sfn.IChainable) => sfn.IChainable;
  readonly backfill: (switchTraffic: sfn.IChainable, abort: sfn.IChainable) => sfn.IChainable;
  readonly contract: (finish: sfn.IChainable) => sfn.IChainable;
}

/**
 * The database migration phases (config.migrations), each a one-off ECS task run and awaited by the state
 * machine (RunTask .sync) with the phase as the command's last word:
 *
 * - start: the previous release's contract when it waits (idle color scaled down first), then the new revision
 *   is registered and expanded for, before any color runs it;
 * - backfill: after validation (and the gate), before the switch;
 * - contract: after the bake, once the old color is scaled down, before Finish.
 *
 * Expand, backfill and the previous contract failing abort the release (traffic never moved); the contract
 * failing after the switch leaves traffic alone and ends in "Live, contract failed" (ContractFailed).
 */
export function migrationPhases(
  scope: Construct,
  fns: StepFunctions,
  migrations: { readonly command: readonly string[]; readonly timeoutMinutes: number },
  where: MigrationTasks,
  h: Pick<StateHelpers, 'invoke' | 'retryGlitches' | 'retryIdempotent' | 'failWith'> & {
    readonly rollback: sfn.IChainable;
  },
): MigrationPhases {
  const run = (id: string, phase: MigrationPhase, taskDefinitionPath: string, comment: string) =>
    new sfn.CustomState(scope, id, {
      stateJson: {
        Type: 'Task',
        Comment: comment,
        Resource: `arn:${Stack.of(scope).partition}:states:::ecs:runTask.sync`,
        Parameters: {
          Cluster: where.cluster.clusterArn,
          'TaskDefinition.$': taskDefinitionPath,
          LaunchType: 'FARGATE',
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              Subnets: where.subnetIds,
              SecurityGroups: [where.securityGroup.securityGroupId],
              AssignPublicIp: 'DISABLED',
            },
          },
          Overrides: {
            ContainerOverrides: [
              {
                Name: MIGRATION_CONTAINER,
                Command: [...migrations.command, phase === 'previousContract' ? 'contract' : phase],
              },
            ],
          },
          StartedBy: `bluegreen-${phase}`,
        },
        TimeoutSeconds: migrations.timeoutMinutes * 60,
        ResultSelector: { 'task.$': '$.TaskArn', 'exitCode.$': '$.Containers[0].ExitCode' },
        ResultPath: `$.migrations.${phase}`,
      },
    }).addRetry({
      // RunTask refused (no capacity, throttled): no task ran, so starting it again is safe.
      errors: ['ECS.AmazonECSException', 'AmazonECS.Unknown'],
      interval: Duration.seconds(5),
      backoffRate: 2,
      maxAttempts: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
  /** After a phase's Catch: the failure, named after its phase (and `extra`), for the report that follows. */
  const failed = (
    id: string,
    phase: MigrationPhase,
    next: sfn.IChainable,
    comment = `The ${phase} task failed: keep its error and cause, and which phase it was.`,
    extra: Record<string, unknown> = {},
  ) =>
    new sfn.Pass(scope, id, {
      comment,
      parameters: { phase, ...extra, 'Error.$': '$.failure.Error', 'Cause.$': '$.failure.Cause' },
      resultPath: '$.failure',
    }).next(next);
  const catchTo = (state: sfn.CustomState | tasks.LambdaInvoke, next: sfn.IChainable) =>
    state.addCatch(next, { resultPath: '$.failure' });

  return {
    start: (deploy: sfn.IChainable, abort: sfn.IChainable): sfn.IChainable => {
      const expand = run(
        STATES.expand,
        'expand',
        '$.release.migrationTask',
        'Expand migrations with the new image, before any color runs it (additive: the live version keeps working).',
      );
      catchTo(expand, failed(STATES.expandFailed, 'expand', abort));
      expand.next(deploy);
      const register = h.invoke(
        STATES.register,
        fns.register!,
        'Register the new revision (not running yet) and the task definition the migrations run with.',
      );
      // Register has no verdict to spare from retrying: a failure is a glitch, retried like any other.
      h.retryGlitches(register);
      catchTo(register, abort);
      register.next(expand);

      const scaleIdle = h.invoke(
        STATES.scaleDownIdle,
        fns['scale-down-old-color']!,
        "The idle color (the previous release's old color) to zero: nothing may send traffic back to it once " +
          'its contract runs.',
      );
      // A color with production weight is never scaled down: a verdict, not retried; Abort sorts traffic out.
      scaleIdle.addRetry({ errors: [ReleaseErrors.TrafficMovedDuringRelease], maxAttempts: 0 });
      h.retryIdempotent(scaleIdle);
      catchTo(scaleIdle, abort);
      const previous = run(
        STATES.previousContract,
        'previousContract',
        '$.release.pendingContract.taskDefinition',
        "The previous release's contract migrations, with its own image, before this release's expand.",
      );
      catchTo(previous, failed(STATES.previousContractFailed, 'previousContract', abort));
      const record = h.invoke(
        STATES.recordContract,
        fns['record-contract']!,
        "Record that the previous release's contract ran: no rollback may cross it.",
      );
      h.retryIdempotent(record);
      catchTo(record, abort);
      scaleIdle.next(previous);
      previous.next(record);
      record.next(register);
      return new sfn.Choice(scope, STATES.contractPending, {
        comment: "Does the previous release's contract wait for this release (its old color was kept warm)?",
      })
        .when(sfn.Condition.isPresent('$.release.pendingContract'), scaleIdle)
        .otherwise(register);
    },
    backfill: (switchTraffic: sfn.IChainable, abort: sfn.IChainable): sfn.IChainable => {
      const backfill = run(
        STATES.backfill,
        'backfill',
        '$.release.migrationTask',
        'Backfill migrations with the new image: validated, not yet switched to.',
      );
      catchTo(backfill, failed(STATES.backfillFailed, 'backfill', abort));
      backfill.next(switchTraffic);
      return backfill;
    },
    contract: (finish: sfn.IChainable): sfn.IChainable => {
      const report = h
        .invoke(
          STATES.reportContractFailure,
          fns['contract-failed']!,
          'Traffic stays on the new color; the contract is recorded as pending; lock released; notify.',
        )
        .addCatch(
          h.failWith(
            STATES.contractReportFailed,
            'The contract migrations failed, and so did their report: the Stopped step reports it.',
            '$.reportFailure',
          ),
          { resultPath: '$.reportFailure' },
        )
        .next(
          h.failWith(
            STATES.liveContractFailed,
            'The new color is live; its contract migrations failed and run again at the next release.',
          ),
        );
      const contractFailed = failed(STATES.contractFailed, 'contract', report);
      const scaleOld = h.invoke(
        STATES.scaleDownOld,
        fns['scale-down-old-color']!,
        'The old color to zero: from here on nothing can send traffic back to it.',
      );
      scaleOld.addRetry({
        errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
        maxAttempts: 0,
      });
      h.retryIdempotent(scaleOld);
      // The listener sends traffic to the old color again: it was not scaled down and no contract runs; it is
      // still warm, so traffic goes back to it.
      scaleOld.addCatch(h.rollback, {
        errors: [ReleaseErrors.TrafficMovedDuringRelease, 'UnhealthyAfterSwitch'],
        resultPath: '$.failure',
      });
      catchTo(
        scaleOld,
        failed(
          STATES.scaleDownFailed,
          'contract',
          report,
          'The old color could not be scaled down: the contract must not run.',
          { scaleDown: true },
        ),
      );
      const contract = run(
        STATES.contract,
        'contract',
        '$.release.migrationTask',
        'Contract migrations with the new image, now that the old version can no longer take traffic.',
      );
      catchTo(contract, contractFailed);
      scaleOld.next(contract);
      contract.next(finish);
      return scaleOld;
    },
  };
}
