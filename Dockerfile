# Switchboard image: the same setup steps as a developer machine (scripts/setup.sh), CPU torch by
# default. The worker service builds it with TORCH_SPEC/TORCH_INDEX of a CUDA wheel instead.
FROM python:3.11-slim

ARG TORCH_SPEC="torch==2.13.0+cpu"
ARG TORCH_INDEX="https://download.pytorch.org/whl/cpu"

ENV PYTHONUNBUFFERED=1 \
    PIP_EXTRA_INDEX_URL=${TORCH_INDEX} \
    TORCH_SPEC=${TORCH_SPEC} \
    PATH=/app/.venv/bin:${PATH}

WORKDIR /app
COPY . /app
# Creates .venv, installs torch (TORCH_SPEC) then the project, and converts the default model once.
RUN bash scripts/setup.sh && rm -rf /root/.cache/pip

EXPOSE 8000
CMD ["switchboard", "serve", "--host", "0.0.0.0", "--port", "8000"]
