// The action's version, recorded in metadata and reports. Kept in step with package.json by a test.
export const ACTION_VERSION = '0.1.0'
