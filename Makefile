# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint format bench clean lock image

$(BIN)/smsbridge: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/smsbridge

demo: $(BIN)/smsbridge
	$(BIN)/smsbridge demo

test: $(BIN)/smsbridge
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/lockcheck.py
	$(BIN)/pytest -W error -q

lint: $(BIN)/smsbridge
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/lockcheck.py

format: $(BIN)/smsbridge
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BIN)/smsbridge
	$(BIN)/python -m bench.run

# Pins every runtime dependency (requirements.lock, what the image and buildpacks install);
# versions already pinned stay unless pyproject.toml no longer allows them.
lock: $(BIN)/smsbridge
	$(BIN)/pip install --quiet 'pip-tools>=7.4,<8'
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-find-links \
		--no-emit-index-url --no-emit-trusted-host --output-file requirements.lock pyproject.toml

# Behind a proxy with its own CA: make image CA=/path/ca.pem (BUILD_FLAGS=--network=host
# where only the host reaches the registries)
# A docker client without buildx cannot build with BuildKit: use Debian's (docker.io) then.
DOCKER ?= $(shell docker buildx version >/dev/null 2>&1 || ! [ -x /usr/bin/docker ] \
	&& echo docker || echo /usr/bin/docker)
comma := ,
image:
	docker/base-image.sh $(DOCKER)
	DOCKER_BUILDKIT=1 $(DOCKER) build $(if $(CA),--secret id=ca$(comma)src=$(CA)) $(BUILD_FLAGS) \
		-t smsbridge:latest .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
