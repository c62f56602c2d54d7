// The plan and the state helpers, which need no router. The rollout itself runs against real HAProxy and real
// model servers in test/serving/rollout.test.ts.
import { describe, expect, it } from '@jest/globals'
import { planRollout, type RolloutOptions } from './rollout.js'
import { sameRouting, sharesFromWeights, type EndpointState, type ServedVersion, type ServingTarget } from './types.js'

function member(
  version: string,
  weight: number,
  share: number,
  health: ServedVersion['health'] = 'ready'
): ServedVersion {
  return { version, member: `v${version}`, address: `127.0.0.1:4000${version}`, weight, share, health }
}

function state(...versions: ServedVersion[]): EndpointState {
  return { endpoint: 'churn', versions, updating: false }
}

const options = (extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
  target: {} as ServingTarget,
  candidate: { name: 'churn', version: '3', dir: '/m' },
  body: {},
  ...extra
})

describe('planRollout', () => {
  it('first deploy: one step to 100%, no previous version', () => {
    const plan = planRollout(state(), options({ traffic: 10 }))
    expect(plan.previousVersion).toBeUndefined()
    expect(plan.steps).toEqual([{ routes: { '3': 100 }, requests: 50 }])
  })

  it('replace: the candidate takes 100% with the previous kept at 0 until it passes', () => {
    const plan = planRollout(state(member('2', 100, 100)), options())
    expect(plan.previousVersion).toBe('2')
    expect(plan.steps).toEqual([{ routes: { '3': 100, '2': 0 }, requests: 50 }])
  })

  it('canary: enough requests for the candidate to answer `requests` at its share, then 100%', () => {
    const plan = planRollout(state(member('2', 100, 100)), options({ traffic: 10, requests: 30 }))
    expect(plan.steps).toEqual([
      { routes: { '3': 10, '2': 90 }, requests: 300 },
      { routes: { '3': 100, '2': 0 }, requests: 30 }
    ])
    // A tiny share is bounded.
    expect(planRollout(state(member('2', 100, 100)), options({ traffic: 1, requests: 100 })).steps[0]!.requests).toBe(
      5000
    )
  })

  it('nothing to do when the candidate alone serves, ready, at 100%', () => {
    expect(planRollout(state(member('3', 100, 100)), options({ traffic: 10 })).steps).toEqual([])
    // Not when it is down, when another member keeps a weight, or while an update runs.
    expect(planRollout(state(member('3', 100, 100, 'down')), options()).steps).toHaveLength(1)
    expect(planRollout(state(member('3', 100, 100), member('2', 0, 0)), options()).steps).toEqual([])
    expect(planRollout(state(member('3', 90, 90), member('2', 10, 10)), options()).steps).toHaveLength(1)
    expect(planRollout({ ...state(member('3', 100, 100)), updating: true }, options()).steps).toHaveLength(1)
  })

  it('a half-finished canary of the same candidate is finished against the version beside it', () => {
    const plan = planRollout(state(member('3', 10, 10), member('2', 90, 90)), options({ traffic: 10, requests: 10 }))
    expect(plan.previousVersion).toBe('2')
    expect(plan.steps.map(s => s.routes)).toEqual([
      { '3': 10, '2': 90 },
      { '3': 100, '2': 0 }
    ])
  })

  it('adds the error-rate rule when none is given, and keeps a given one', () => {
    expect(planRollout(state(), options()).rules).toEqual([{ name: 'deploy.error_rate', max: 0 }])
    const rules = [{ name: 'deploy.error_rate', max: 0.01 }]
    expect(planRollout(state(), options({ rules })).rules).toEqual(rules)
  })

  it('refuses a traffic share that is not a whole percentage from 1 to 100', () => {
    for (const traffic of [0, 101, 12.5]) expect(() => planRollout(state(), options({ traffic }))).toThrow(/traffic/)
  })
})

describe('state helpers', () => {
  it('shares from weights sum to 100', () => {
    expect(sharesFromWeights([90, 10])).toEqual([90, 10])
    expect(sharesFromWeights([1, 1, 1])).toEqual([34, 33, 33])
    expect(sharesFromWeights([0, 0])).toEqual([0, 0])
    expect(sharesFromWeights([200, 56])).toEqual([78, 22])
  })

  it('same routing compares members, addresses and weights, not health or order', () => {
    const a = state(member('2', 100, 100), member('3', 0, 0))
    expect(sameRouting(a, state(member('3', 0, 0, 'down'), member('2', 100, 100)))).toBe(true)
    expect(sameRouting(a, state(member('2', 100, 100)))).toBe(false)
    expect(sameRouting(a, state(member('2', 90, 90), member('3', 10, 10)))).toBe(false)
    expect(sameRouting(a, state({ ...member('2', 100, 100), address: '127.0.0.1:1' }, member('3', 0, 0)))).toBe(false)
  })
})
