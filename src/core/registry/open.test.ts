import { describe, expect, it } from '@jest/globals'
import { ConfigurationError } from '../errors.js'
import { chooseRegistry } from './open.js'

const describeInput = (name: string) => `input '${name}'`
const base = { workspace: '/ws', describeInput, env: {} }

describe('chooseRegistry', () => {
  it('takes a registry-path input as the file registry, though MLFLOW_TRACKING_URI is set', () => {
    expect(
      chooseRegistry({ ...base, registryPath: 'reg', env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } })
    ).toEqual({ kind: 'file', path: '/ws/reg' })
  })

  it('still takes a tracking URI alone as MLflow, and nothing at all as the file registry in the workspace', () => {
    expect(chooseRegistry({ ...base, env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } })).toMatchObject({
      kind: 'mlflow',
      trackingUri: 'http://127.0.0.1:5000',
      trackingUriSource: 'MLFLOW_TRACKING_URI'
    })
    expect(chooseRegistry(base)).toEqual({ kind: 'file', path: '/ws/.modelgate/registry' })
  })

  it.each([
    ['the registry input', { kind: 'mlflow' as const }, "from input 'registry'"],
    ['the config', { config: { type: 'mlflow' as const } }, 'from registry.type in the config']
  ])('refuses a registry-path beside another registry type from %s, rather than ignoring it', (_, given, from) => {
    const choose = () =>
      chooseRegistry({ ...base, ...given, registryPath: 'reg', trackingUri: 'http://127.0.0.1:5000' })
    expect(choose).toThrow(ConfigurationError)
    expect(choose).toThrow(`names the file registry's folder, but the registry here is mlflow (${from})`)
    try {
      choose()
    } catch (error) {
      expect((error as ConfigurationError).place).toEqual({ source: "input 'registry-path'" })
    }
  })
})
