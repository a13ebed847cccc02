"""Prompt building: what the tutor is told for one explanation, and the cache key for it.

Contract of this package:

- The prompt carries the school policy, the teacher's lesson contract and a pseudonymized
  student profile (grade, reading level, interests, accommodations, language). It never
  carries a name, an e-mail or any id: `StudentContext` holds none besides the pseudonym,
  and the pseudonym is only for the caller's `CompletionRequest.safety_identifier`.
- The result fits `token_budget` (counted with `llm.tokens`) except in one case: when
  the system message with the lesson material and worked examples cut to nothing, plus the
  question, is already larger. Callers compare `prompt_tokens_estimate` with the budget.
- Pure functions: no database, no network, deterministic for equal inputs.

Modules: `contract` (the inputs and the result), `answer_policy` (when the solution opens
and what the tutor is told about it), `instructions` (`PROMPT_VERSION` and the wording),
`trimming` (fitting history and material to the budget), `builder` (`build_prompt`),
`cache_keys` (`cache_key`, `normalize_question`). Import from the module, not from here.
"""
