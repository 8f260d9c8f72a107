"""`make run`: start the platform on embedded defaults, run the quickstart against it, keep serving.

The server runs as a child process (`moderately serve`), exactly as an operator would start it.
On first start it writes `<data-dir>/credentials.env`; the quickstart reads those credentials
through the SDK's environment variables. Ctrl-C stops the server.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip()
    return values


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server exited with code {server.returncode} before it was ready")
        try:
            if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    sys.exit(f"the server did not answer {base_url}/health within {seconds:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", default=".data")
    args = parser.parse_args()

    port = args.port
    if not port_is_free(args.host, port):
        port = free_port(args.host)
        print(f"port {args.port} is taken; using {port} instead")
    data_dir = (ROOT / args.data_dir).resolve()
    base_url = f"http://{args.host}:{port}"

    cli = shutil.which("moderately", path=str(Path(sys.executable).parent)) or "moderately"
    command = [cli, "serve", "--host", args.host, "--port", str(port), "--data-dir", str(data_dir)]
    print("$ " + " ".join(command))
    server = subprocess.Popen(command)
    try:
        wait_until_healthy(base_url, server, seconds=60)
        credentials = read_env_file(data_dir / "credentials.env")
        env = {**os.environ, **credentials, "MODERATELY_BASE_URL": base_url}

        print("\n--- examples/quickstart.py ---")
        result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")], env=env)
        if result.returncode != 0:
            sys.exit(f"the quickstart failed with exit code {result.returncode}")

        print("\n--- the platform is running ---")
        print(f"  address:     {base_url}   (OpenAPI: {base_url}/docs)")
        print(f"  credentials: {data_dir / 'credentials.env'}")
        print(f"    MODERATELY_BASE_URL={base_url}")
        print(f"    MODERATELY_API_KEY={credentials.get('MODERATELY_API_KEY', '')}")
        print(f"    MODERATELY_TEAM_ID={credentials.get('MODERATELY_TEAM_ID', '')}")
        print("  Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
