// A health-url with a password or a token is masked wherever the action prints or records it (issue 23).
import { describe, expect, test } from 'vitest'
import { maskUrl } from '../../src/core/mask-url.js'
import { INPUT_DEFAULTS, parseInputs } from '../../src/shell/inputs.js'

describe('maskUrl', () => {
  test('user:pass@, every query value and the fragment are masked; host, port and path stay', () => {
    expect(maskUrl('https://admin:hunter2@app.example:8443/health?token=abc123&x=1#frag')).toBe('https://***@app.example:8443/health?token=***&x=***#***')
    expect(maskUrl('http://127.0.0.1:3000/health')).toBe('http://127.0.0.1:3000/health')
  })
  test('text that does not parse as a URL still loses what looks like credentials and a query', () => {
    expect(maskUrl('https://u:p@bad host/?token=s3cret')).not.toMatch(/u:p|s3cret/)
  })
})

test('an invalid health-url is named masked in the input error', () => {
  const read = (n: string) => (n === 'health-url' ? 'ftp://admin:hunter2@app.example/health?token=s3cr3t' : n === 'app' ? 'web' : ((INPUT_DEFAULTS as Record<string, string>)[n] ?? ''))
  let message = ''
  try {
    parseInputs({ PM2_HOME: '/tmp/none' }, read)
  } catch (err) {
    message = (err as Error).message
  }
  expect(message).toMatch(/health-url/)
  expect(message).not.toMatch(/hunter2|s3cr3t/)
})
