/**
 * The names an MLflow tracking server refuses (`mlflow/utils/validation.py`: `_validate_model_name`,
 * `_validate_model_version_tag`), checked before anything is uploaded: the server would refuse a tag key only at
 * the create request, after the model's files went up, and neither refusal names the input it came from.
 */
import { ConfigurationError, type ErrorPlace } from '../../errors.js'

/** MLflow's MAX_MODEL_REGISTRY_TAG_KEY_LENGTH and MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH. */
const MAX_TAG_KEY_LENGTH = 250
const MAX_TAG_VALUE_LENGTH = 100_000

/** Python's `\w` is Unicode-aware: letters, digits (any script) and `_`. */
const TAG_KEY = /^[\p{L}\p{N}_/.\- :]*$/u

/**
 * MLflow's `path_not_unique`: a name that `posixpath.normpath` changes, or that is `.`, starts with `..` or `/`,
 * could name another file where the server stores it by name.
 */
function readsAsPath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.startsWith('..')) return true
  return name.split('/').some(segment => segment === '' || segment === '.' || segment === '..')
}

export function checkMlflowModelName(name: string, place: ErrorPlace): void {
  const expected = 'choose a plain name, as in churn-classifier'
  if (name.trim() === '') throw new ConfigurationError(`a model name must not be empty; ${expected}`, place)
  if (/[/:]/.test(name)) {
    throw new ConfigurationError(`MLflow refuses the model name "${name}": it holds "/" or ":"; ${expected}`, place)
  }
  if (readsAsPath(name)) {
    throw new ConfigurationError(`MLflow refuses the model name "${name}": it reads as a path; ${expected}`, place)
  }
}

/** `place` names the tags' source; the key is added as its path. */
export function checkMlflowTag(key: string, value: string, place: ErrorPlace): void {
  const at = { ...place, path: key }
  if (key === '') throw new ConfigurationError('MLflow refuses an empty tag name; give the tag a name', at)
  if (!TAG_KEY.test(key)) {
    throw new ConfigurationError(
      'MLflow refuses this tag name: it may hold only alphanumerics, underscores (_), dashes (-), periods (.), spaces, colons (:) and slashes (/)',
      at
    )
  }
  if (readsAsPath(key)) {
    throw new ConfigurationError(
      'MLflow refuses this tag name: it reads as a path (it starts with "/" or "..", or has an empty, "." or ".." part between slashes)',
      at
    )
  }
  if (key.length > MAX_TAG_KEY_LENGTH) {
    throw new ConfigurationError(`MLflow refuses tag names longer than ${MAX_TAG_KEY_LENGTH} characters`, at)
  }
  if (value.length > MAX_TAG_VALUE_LENGTH) {
    throw new ConfigurationError(
      `MLflow refuses tag values longer than ${MAX_TAG_VALUE_LENGTH} characters (this one has ${value.length})`,
      at
    )
  }
}
