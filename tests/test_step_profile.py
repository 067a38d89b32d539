"""benchmarks/step_profile.py: step time attributed to operations from a trace, HLO attribution (matmul or not, part, pass)."""

import jax
import jax.numpy as jnp
import pytest

from benchmarks import step_profile


def _event(name, ts, dur, tid=1, module="jit_f"):
    return {
        "ph": "X",
        "pid": 7,
        "tid": tid,
        "ts": ts,
        "dur": dur,
        "name": name,
        "args": {"hlo_module": module, "hlo_op": name},
    }


def test_wall_times_go_to_the_innermost_operation_split_between_threads():
    events = [
        _event("while.1", 0, 100),
        _event("dot.2", 10, 30),
        _event("add.3", 50, 10),
        _event("fusion.4", 20, 5),  # nested in dot.2, which is nested in while.1
        _event("copy.5", 30, 20, tid=2),  # another thread: shares 30..40 with dot.2, 40..50 with while.1
        _event("mul.6", 150, 50, tid=2),  # after a gap of 50 with no operation
        _event("other.7", 0, 1000, module="jit_g"),  # another module: ignored
        {"ph": "X", "pid": 7, "tid": 1, "ts": 0, "dur": 500, "name": "ThunkExecutor::Execute", "args": {}},
    ]
    times, idle, threads = step_profile.wall_times(events, "jit_f")
    assert times == pytest.approx(
        {"while.1": 10 + 5 + 40, "dot.2": 10 + 5 + 5, "fusion.4": 5, "copy.5": 5 + 5, "add.3": 10, "mul.6": 50}
    )
    assert idle == 50 and threads == 2
    assert sum(times.values()) + idle == pytest.approx(200)  # the span from the first start to the last end


HLO = """HloModule jit_f, entry_computation_layout={(f32[4,4]{1,0})->f32[4,4]{1,0}}

%fused_dot (p0: f32[4,4], p1: f32[4,4]) -> f32[4,4] {
  %p0 = f32[4,4]{1,0} parameter(0)
  %p1 = f32[4,4]{1,0} parameter(1)
  ROOT %dot.1 = f32[4,4]{1,0} dot(%p0, %p1), lhs_contracting_dims={1}, rhs_contracting_dims={0}
}

%fused_tanh (p0: f32[4,4]) -> f32[4,4] {
  %p0 = f32[4,4]{1,0} parameter(0)
  ROOT %tanh.1 = f32[4,4]{1,0} tanh(%p0)
}

ENTRY %main (x: f32[4,4]) -> f32[4,4] {
  %x = f32[4,4]{1,0} parameter(0)
  %ynn_fusion = f32[4,4]{1,0} fusion(%x, %x), kind=kCustom, calls=%fused_dot, metadata={op_name="jit(f)/transpose(jvp(M))/M.encode/dot_general"}
  %tanh_fusion = f32[4,4]{1,0} fusion(%ynn_fusion), kind=kLoop, calls=%fused_tanh, metadata={op_name="jit(f)/jvp(M)/decoder.step/decoder._dropout/threefry2x32"}
  ROOT %dot.2 = f32[4,4]{1,0} dot(%tanh_fusion, %x), lhs_contracting_dims={1}, rhs_contracting_dims={0}, metadata={op_name="jit(f)/mul"}
}
"""


def test_hlo_operations_mark_dots_and_fusions_of_dots_as_matmuls():
    operations = step_profile.hlo_operations(HLO)
    assert operations["ynn_fusion"]["matmul"] and operations["dot.2"]["matmul"]
    assert not operations["tanh_fusion"]["matmul"] and not operations["x"]["matmul"]
    assert operations["ynn_fusion"]["source"] == "jit(f)/transpose(jvp(M))/M.encode/dot_general"


@pytest.mark.parametrize(
    "source, part, pass_",
    [
        ("jit(f)/transpose(jvp(M))/M.encode/dot_general", "encoder", "backward"),
        (
            "jit(f)/jvp(M)/while/body/decoder.step/decoder._dropout/threefry2x32",
            "dropout masks (threefry PRNG)",
            "forward",
        ),
        ("jit(f)/jvp(M)/while/body/decoder.step/decoder._attend/attention/dot_general", "attention", "forward"),
        ("jit(f)/jvp(M)/while/body/decoder.step/decoder._logits/dot_general", "output layer", "forward"),
        (
            "jit(f)/transpose(jvp(M))/while/body/closed_call/decoder.step/decoder._stack/cells_0/add",
            "decoder cells",
            "backward",
        ),
        ("jit(f)/jvp(M)/while/body/jit(dynamic_index_in_dim)/dynamic_slice", "scan plumbing", "forward"),
        ("jit(f)/sqrt", "loss and optimizer", "update"),
    ],
)
def test_parts_and_passes_from_the_source_path(source, part, pass_):
    assert step_profile.part_of(source) == part
    assert step_profile.pass_of(source) == pass_


def test_a_compiled_jax_function_has_its_matmul_found():
    def f(x, w):
        return jnp.tanh(x @ w).sum()

    x = jnp.ones((8, 16))
    operations = step_profile.hlo_operations(jax.jit(jax.grad(f, argnums=1)).lower(x, x.T).compile().as_text())
    assert any(op["matmul"] for op in operations.values())
    assert any(not op["matmul"] and op["opcode"] != "parameter" for op in operations.values())
