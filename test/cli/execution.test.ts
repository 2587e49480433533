import { followEvents, outcomeWord, positionOf, type FollowMemory } from '../../cli/execution';
import { history, releaseOf } from './mock-aws';

const state = { execution: 'r1', release: releaseOf() };

describe('reading an execution from its history', () => {
  beforeEach(() => history.reset());

  test('the current state, since when, and the release it carries', () => {
    const events = [
      history.started({}),
      history.entered('Prepare', 'Task', {}),
      history.exited('Prepare', 'Task', state),
      history.entered('Bake: wait', 'Wait', state),
    ];
    const p = positionOf([...events].reverse());
    expect(p).toEqual({ state: 'Bake: wait', enteredAt: events[3].timestamp, release: state.release });
  });

  test('between two states: the state just left', () => {
    const events = [
      history.entered('Switch traffic', 'Task', state),
      history.exited('Switch traffic', 'Task', state),
    ];
    expect(positionOf([...events].reverse())).toMatchObject({
      state: 'Switch traffic',
      enteredAt: events[0].timestamp,
    });
  });

  test("the gate's task token only while the gate waits", () => {
    const waiting = [
      history.entered('Wait for approval', 'Task', state),
      history.scheduledCallback('tok', state),
    ];
    expect(positionOf([...waiting].reverse()).approval).toEqual({
      token: 'tok',
      since: waiting[1].timestamp,
    });
    const after = [
      ...waiting,
      history.exited('Wait for approval', 'Task', state),
      history.entered('Switch traffic', 'Task', state),
    ];
    expect(positionOf([...after].reverse()).approval).toBeUndefined();
  });

  test('follow events: durations across reads, failures, the ending', () => {
    const entered: FollowMemory = new Map();
    const first = followEvents([history.entered('Validate idle color', 'Task', state)], entered);
    const second = followEvents(
      [
        history.taskFailed('ValidationFailed', 'smoke /health: 500'),
        history.exited('Validate idle color', 'Task', state),
        history.failed('ValidationFailed', 'x'),
      ],
      entered,
    );
    expect(first.map((e) => e.type)).toEqual(['entered']);
    expect(second).toMatchObject([
      { type: 'failed', state: 'Validate idle color', error: 'ValidationFailed' },
      { type: 'left', state: 'Validate idle color', ms: 2000, ok: false }, // left on the caught error
      { type: 'finished', status: 'FAILED', error: 'ValidationFailed' },
    ]);
  });

  test('outcomes in a word', () => {
    expect(outcomeWord('SUCCEEDED')).toBe('released');
    expect(outcomeWord('FAILED', 'DeployFailed')).toBe('DeployFailed');
    expect(outcomeWord('ABORTED', 'ManualRollback')).toBe('stopped (ManualRollback)');
    expect(outcomeWord('TIMED_OUT')).toBe('timed out');
    expect(outcomeWord('RUNNING')).toBe('in flight');
  });
});
