"""Resolving model references to folders/ids and loading them with transformers."""

from __future__ import annotations

import os
import threading
from functools import cache
from typing import Any

from ccaic.models.ref import ModelRef
from ccaic.plan.model import TrainingPlan


def model_location(ref: ModelRef, base_dir: str | None, seed: int) -> str:
    """A path or Hub id transformers can load."""
    if ref.kind == "builtin":
        from ccaic.models.tiny import tiny_path

        return str(tiny_path(seed))
    if ref.kind == "local":
        return str(ref.folder(base_dir))
    if ref.kind == "hf":
        return ref.name
    raise ValueError(f"{ref.ref} is a remote model; it cannot be loaded locally")


def model_revision(ref: ModelRef) -> str | None:
    """The Hub revision a loader passes for ref (`org/name@rev`); None for anything else."""
    return ref.revision if ref.kind == "hf" else None


HUB_PROBE_SECONDS = 2.0


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def hub_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set, or the Hub does not answer."""
    return _env_true("HF_HUB_OFFLINE") or _env_true("TRANSFORMERS_OFFLINE") or not _probe()


@cache
def _probe() -> bool:
    """Whether the Hub endpoint answers an HTTP request (any status) within
    HUB_PROBE_SECONDS. Without this, every from_pretrained of an id retries for about a minute
    before it gives up; the probe runs in a thread, so a resolver or a connection that hangs
    cannot hold the build either."""
    import urllib.error
    import urllib.request

    url = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/") + "/api/models"
    ok: list[bool] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"),
                                   timeout=HUB_PROBE_SECONDS).close()
            ok.append(True)
        except urllib.error.HTTPError:  # it answered
            ok.append(True)
        except (OSError, ValueError):
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_PROBE_SECONDS + 0.5)
    return bool(ok)


def hub_problem(name: str, revision: str | None) -> str | None:
    """Why the Hub model `name` (at revision) cannot be loaded here, or None when it can: it
    is in the local Hugging Face cache, or the Hub is reachable to download it. A cached model
    with no reachable Hub is then loaded in offline mode (no retries against the network)."""
    from ccaic.models.identity import cached_commit

    if cached_commit(name, revision) is not None:
        if hub_offline():
            _go_offline()
        return None
    if not hub_offline():
        return None
    why = "HF_HUB_OFFLINE is set" if _env_true("HF_HUB_OFFLINE") or \
        _env_true("TRANSFORMERS_OFFLINE") else "the Hugging Face Hub cannot be reached"
    at = f" at revision {revision}" if revision else ""
    return f"`{name}`{at} is not in the local Hugging Face cache and {why}"


def _go_offline() -> None:
    """Loads from the cache only, in this process and the ones it starts."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import huggingface_hub.constants as hub

        hub.HF_HUB_OFFLINE = True
    except ImportError:
        pass


def check_loadable(ref: ModelRef, code: str, attribute: str = "model") -> None:
    """Fail in seconds (`code`, with a fix) for a Hub model that cannot be had here;
    `attribute` is the plan attribute that names it (the hint says which to change)."""
    if ref.kind != "hf":
        return
    problem = hub_problem(ref.name, ref.revision)
    if problem is not None:
        from ccaic.diagnostics import DiagnosticError, error

        raise DiagnosticError([error(
            code, f"model {problem}",
            help=f"download it where there is network (`hf download {ref.name}"
            + (f" --revision {ref.revision}" if ref.revision else "") + "`) into the cache "
            "this machine reads (HF_HUB_CACHE / HF_HOME), or point `" + attribute + "` at a local "
            "folder")])


def check_plan_models(plan: TrainingPlan, code: str) -> None:
    """check_loadable for the plan's policy and feedback models (the build's CCAI513, the
    evaluation's CCAI494), each hint naming the attribute to change."""
    for ref, attribute in ((plan.policy, "model"), (plan.feedback, "feedback_model")):
        check_loadable(ref, code, attribute)


def device_and_dtype() -> tuple[str, Any]:
    """bf16 on GPU, fp32 on CPU."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32


def quiet_transformers() -> None:
    """No transformers warnings or progress bars on the build's output."""
    import transformers

    tf: Any = transformers  # its logging helpers are untyped
    tf.logging.set_verbosity_error()
    tf.utils.logging.disable_progress_bar()


def _pretrained(cls: Any, location: str, revision: str | None, **kwargs: Any) -> Any:
    """`cls.from_pretrained(location)`: the one call through which every model, tokenizer
    and config is loaded, so a pinned Hub revision reaches each of them (`revision=` is
    passed only when there is one: a folder has none, and transformers' default is main)."""
    if revision is not None:
        kwargs["revision"] = revision
    return cls.from_pretrained(location, **kwargs)


def load_tokenizer(location: str, revision: str | None = None) -> Any:
    """The model's tokenizer, padding with EOS when it has no pad token."""
    from transformers import AutoTokenizer

    tok = _pretrained(AutoTokenizer, location, revision)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_config(location: str, revision: str | None = None) -> Any:
    """The model's config.json (dtype, context length), without its weights."""
    from transformers import AutoConfig

    return _pretrained(AutoConfig, location, revision)


def load_generation_config(location: str, revision: str | None = None) -> Any:
    """The model's generation_config.json (its EOS ids)."""
    from transformers import GenerationConfig

    return _pretrained(GenerationConfig, location, revision)


def load_model(location: str, revision: str | None, dtype: Any) -> Any:
    """The causal LM's weights in `dtype`, left where transformers puts them (a trainer
    places them itself)."""
    from transformers import AutoModelForCausalLM

    return _pretrained(AutoModelForCausalLM, location, revision, dtype=dtype)


def load_adapter_model(adapter_dir: str) -> Any:
    """Saved LoRA adapters on their base model, in the device's dtype; the base loads at the
    revision the adapter config names (ccaic writes the plan's pin there)."""
    from peft import AutoPeftModelForCausalLM

    _, dtype = device_and_dtype()
    return _pretrained(AutoPeftModelForCausalLM, adapter_dir, None, dtype=dtype)


def load_causal_lm(location: str, revision: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) on the best device, in eval mode."""
    quiet_transformers()
    device, dtype = device_and_dtype()
    tok = load_tokenizer(location, revision)
    model = load_model(location, revision, dtype)
    model.to(device)
    model.eval()
    if model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok
