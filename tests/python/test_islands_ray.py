"""The island model on Ray (skipped where Ray is not installed; `pip install ".[test]"` has
it): the same result as in this process, and an actor whose process is killed mid-run comes
back from its islands' checkpoints and the run ends as an undisturbed one. One local Ray of
2 CPUs for the module, started here."""
import os
import signal
import threading

import numpy as np
import pytest

from evoae.islands import Islands

ray = pytest.importorskip("ray")

RUN = dict(islands=4, migration_interval=20, population=8, mutations=20, threads=1)


@pytest.fixture(scope="module")
def local_ray():
    # The actors at the test's priority, as evoae's own local Ray runs them (backends.py).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_worker_niceness", "0")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def undisturbed(net, images):
    with Islands(net, images, **RUN, workers=1) as run:
        run.run(generations=100)
        return run.island_histories(), run.best_genome, run.migrations


def test_ray_gives_the_in_process_result(net, images, local_ray, undisturbed):
    with Islands(net, images, **RUN, backend="ray", workers=2) as run:
        run.run(generations=100)
        assert np.array_equal(run.island_histories(), undisturbed[0])
        assert np.array_equal(run.best_genome, undisturbed[1])
        assert run.migrations == undisturbed[2]


def test_a_killed_actor_restarts_from_its_checkpoints(net, images, local_ray, undisturbed,
                                                      tmp_path):
    with Islands(net, images, **RUN, backend="ray", workers=2, checkpoints=tmp_path) as run:
        run.run(generations=40)
        victim = run.backend.pids()[1]  # islands 1 and 3, saved at generation 40
        threading.Timer(0.05, os.kill, (victim, signal.SIGKILL)).start()  # mid-round
        run.run(generations=60)
        untouched, restored = run.backend.call("restored", [(), ()])
        # From the newest checkpoint each had when it died: at 40, or at 60 when it died
        # within the migration at 60 after saving (the other island catches up).
        assert untouched == {} and set(restored) == {1, 3}
        assert all(g >= 40 and g % 20 == 0 for g in restored.values())
        assert run.backend.pids()[1] != victim
        assert np.array_equal(run.island_histories(), undisturbed[0])
        assert np.array_equal(run.best_genome, undisturbed[1])
        assert run.migrations == undisturbed[2]


def test_settings_the_core_refuses_reach_the_driver_as_they_are(net, images, local_ray):
    with pytest.raises(ValueError, match="^unknown mutation 'bogus': choose original"):
        Islands(net, images, **RUN, backend="ray", workers=2, mutation="bogus")


def test_a_lost_driver_resumed_on_ray_survives_a_killed_actor(net, images, local_ray,
                                                              undisturbed, tmp_path):
    with Islands(net, images, **RUN, workers=1, checkpoints=tmp_path) as run:
        run.run(generations=50)  # the driver is lost at 50: every island saved at 40
    with Islands.resume(tmp_path, backend="ray", workers=2) as run:
        assert run.generation == 40
        run.run(generations=30)  # saved at 60
        os.kill(run.backend.pids()[0], signal.SIGKILL)
        run.run(generations=30)
        assert run.backend.call("restored", [(), ()])[0] == {0: 60, 2: 60}
        assert np.array_equal(run.island_histories(), undisturbed[0])
        assert run.migrations == undisturbed[2]
