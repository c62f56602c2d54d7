// Puts back the parentheses around the bundle's module factories that terser takes out, as `(function(…){…})`.
//
// V8 compiles a function lazily: it pre-parses the body when the file loads and parses it again on the first call.
// A function expression in parentheses is V8's hint that it runs at once (only `(function`, not an arrow), and it is
// then compiled in the one pass. A webpack module factory runs once, as soon as its module is required, and a gate
// step requires most of its bundle: the main factory holds all of the action's own code. Measured from start to exit
// in alternating runs against the same bundle without this step: validate-model on the example model 98 -> 88 ms
// (fastest run) and 117 -> 106 ms (median), compare-metrics on the example about 7 ms less, where `node -e 0` takes
// 21-28 ms.
import * as acorn from 'acorn'

/** Whether `this`, `arguments` or `new.target` in `body` would mean something else in a function than in an arrow. */
function usesArrowScope(node) {
  if (!node || typeof node.type !== 'string') return false
  if (node.type === 'ThisExpression') return true
  if (node.type === 'MetaProperty' && node.meta.name === 'new') return true
  if (node.type === 'Identifier' && node.name === 'arguments') return true
  // A regular function has its own this and arguments; an arrow inside the factory shares the factory's.
  if (node.type === 'FunctionExpression' || node.type === 'FunctionDeclaration') return false
  // Class bodies bind their own this (methods, field initialisers); their heritage and computed keys do not.
  if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') {
    return (
      usesArrowScope(node.superClass) || node.body.body.some(member => member.computed && usesArrowScope(member.key))
    )
  }
  for (const key in node) {
    if (key === 'type' || key === 'start' || key === 'end') continue
    const value = node[key]
    if (Array.isArray(value)) {
      if (value.some(usesArrowScope)) return true
    } else if (value && typeof value === 'object' && typeof value.type === 'string' && usesArrowScope(value))
      return true
  }
  return false
}

/** The factories of webpack's module map: an object literal whose keys are module ids and values functions. */
function factories(ast) {
  const found = []
  const visit = node => {
    if (!node || typeof node.type !== 'string') return
    if (
      node.type === 'ObjectExpression' &&
      node.properties.length > 0 &&
      node.properties.every(
        p =>
          p.type === 'Property' &&
          !p.computed &&
          p.key.type === 'Literal' &&
          typeof p.key.value === 'number' &&
          (p.value.type === 'ArrowFunctionExpression' || p.value.type === 'FunctionExpression')
      )
    ) {
      for (const p of node.properties) found.push(p.value)
      return
    }
    for (const key in node) {
      const value = node[key]
      if (Array.isArray(value)) value.forEach(visit)
      else if (value && typeof value === 'object') visit(value)
    }
  }
  visit(ast)
  return found
}

/** `code` with every module factory written as `(function(…){…})`; a factory that needs to stay an arrow is left. */
export function eagerFactories(code) {
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true })
  let out = code
  for (const fn of factories(ast).sort((a, b) => b.start - a.start)) {
    if (fn.type === 'ArrowFunctionExpression') {
      if (fn.async || fn.body.type !== 'BlockStatement' || usesArrowScope(fn.body)) continue
      const params = fn.params.map(p => code.slice(p.start, p.end)).join(',')
      out = `${out.slice(0, fn.start)}(function(${params})${code.slice(fn.body.start, fn.body.end)})${out.slice(fn.end)}`
    } else {
      out = `${out.slice(0, fn.start)}(${code.slice(fn.start, fn.end)})${out.slice(fn.end)}`
    }
  }
  return out
}
