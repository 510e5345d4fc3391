#!/usr/bin/env bash
# How the repository's demo fleet (.sops.yaml, secrets/, examples/keys/) was made:
# with `secrets` itself, so the files are what the tool writes for a real fleet.
# Run once from the repository root after `npm run build`; it refuses to run
# over an existing fleet, since new keys would orphan every encrypted file.
# The keys it makes are PUBLIC DEMO KEYS (examples/keys/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# SECRETS_BIN: another build of bin/secrets.cjs (e.g. one made from a clean checkout).
secrets() { node "${SECRETS_BIN:-bin/secrets.cjs}" "$@"; }
if [ -e .sops.yaml ] || [ -e examples/keys/alice.txt ]; then
    echo "make-demo-fleet: .sops.yaml or examples/keys/ already exists; delete them first" >&2
    exit 1
fi

# A throwaway HOME: init must take alice's demo key, never the developer's own.
HOME="$(mktemp -d)"
export HOME XDG_CONFIG_HOME="$HOME/.config"
trap 'rm -rf "$HOME"' EXIT
umask 077

mkdir -p examples/keys
banner='# PUBLIC DEMO KEY: published in the secrets repository; never use it for real secrets.'
for name in alice bob web1; do
    { echo "$banner"; age-keygen 2>/dev/null; } > "examples/keys/$name.txt"
done
mkdir -p "$XDG_CONFIG_HOME/sops/age"
cp examples/keys/alice.txt "$XDG_CONFIG_HOME/sops/age/keys.txt"

secrets init --yes --user alice
secrets keys add-host web1 --age "$(age-keygen -y examples/keys/web1.txt)" -y
secrets keys add-user bob --age "$(age-keygen -y examples/keys/bob.txt)" -y

# One file per kind of directory, each created by `edit` (EDITOR writes the
# first content, as a person would in their editor); `set` then adds a value.
create() { # FILE CONTENT
    EDITOR="cp $(printf '%q' "$2")" secrets edit "$1"
}
# Inside the throwaway HOME, so that the trap removes it whatever happens.
tmp="$HOME/content.yaml"
printf 'database:\n    host: db.internal\n    user: app\n    password: demo-db-password\napi_token: demo-api-token\n' > "$tmp"
create secrets/shared/app.yaml "$tmp"
printf 'agent:\n    token: demo-web1-agent-token\n' > "$tmp"
create secrets/hosts/web1/agent.yaml "$tmp"
printf 'github_token: demo-alice-github-token\n' > "$tmp"
create secrets/users/alice/tokens.yaml "$tmp"
# Alice writes bob's file too: encrypting needs only his recipient, and from then
# on only his key opens it.
printf 'github_token: demo-bob-github-token\n' > "$tmp"
create secrets/users/bob/tokens.yaml "$tmp"
rm -f "$tmp"
echo '5432' | secrets set --value-stdin secrets/shared/app.yaml '["database"]["port"]'
# What web1 receives from `secrets deploy` (docs/deploy.md).
cat >> .sops.yaml <<'MANIFEST'

# What host web1 receives from `secrets deploy --host web1` (docs/deploy.md);
# real sops ignores the `secrets:` key.
secrets:
  deploy:
    web1:
      - name: db-password
        file: secrets/shared/app.yaml
        key: '["database"]["password"]'
        owner: daemon
        group: daemon
        mode: "0440"
        restart_units: [app.service]
      - name: agent.json
        file: secrets/hosts/web1/agent.yaml
        format: json
        restart_units: [web1-agent.service]
      - name: app.conf
        content: |
          [database]
          host = {{ secrets/shared/app.yaml#["database"]["host"] }}
          user = {{ secrets/shared/app.yaml#["database"]["user"] }}
          password = {{ secrets/shared/app.yaml#["database"]["password"] }}
        mode: "0400"
        reload_units: [app.service]
MANIFEST
# Profiles (docs/profiles.md): dev opened by every user and host, prod by the
# hosts only. After the manifest, so that init adds them to its `secrets:` key.
secrets init --yes --user alice --profiles dev,prod >/dev/null
printf 'DB_PASSWORD=demo-dev-db-password\nAPI_URL=http://localhost:8080\n' > "$HOME/dev.env"
secrets import "$HOME/dev.env" --into secrets/dev/app.yaml
# alice writes prod but cannot read it back (encrypt warns): only web1 opens it.
printf 'DB_PASSWORD=demo-prod-db-password\nAPI_URL=https://api.example.com\n' > "$HOME/prod.env"
secrets import "$HOME/prod.env" --into secrets/prod/app.yaml 2>/dev/null
rm -f "$HOME/dev.env" "$HOME/prod.env"
rm -f secrets/dev/.gitkeep secrets/prod/.gitkeep
secrets access
