# NixOS module: sops-nix's options under `secrets.` instead of `sops.`
# (secrets.secrets.<name>, secrets.templates.<name>, secrets.placeholder.<name>), so a
# configuration moves over by renaming the prefix. It only builds the deploy manifest
# (with manifest.nix, the pure part, tested without nixpkgs) and runs
# `secrets deploy --manifest` at activation; the tool does the rest (generations,
# owners, modes, restarts). docs/nixos.md describes every option.
{
  config,
  options,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib) mkOption types;
  cfg = config.secrets;
  # Bound here: inside the submodules below, `config` is the submodule's own.
  users = config.users.users;
  helpers = import ./lib.nix;
  toManifest = import ./manifest.nix;

  secretsForUsers = lib.filterAttrs (_: s: s.neededForUsers) cfg.secrets;

  # Only the fields manifest.nix knows (it rejects others, and the submodules carry
  # `_module` and the like).
  secretFields = s: {
    inherit (s) name sopsFile key format owner group mode path restartUnits reloadUnits neededForUsers;
  };
  templateFields = t: {
    inherit (t) name content file owner group mode path restartUnits reloadUnits;
  };

  manifest = pkgs.writeText "secrets-manifest.json" (
    builtins.toJSON (toManifest {
      inherit (cfg) host keepGenerations;
      secrets = lib.mapAttrs (_: secretFields) cfg.secrets;
      templates = lib.mapAttrs (_: templateFields) cfg.templates;
    })
  );

  # One manifest for both steps. The step before users passes --needed-for-users:
  # it resolves and installs only those root-owned entries (the other entries'
  # users may not exist yet) and leaves /run/secrets alone; the step after users
  # deploys everything, finds the for-users store already up to date, and builds
  # nothing there. --no-block: during a switch, a blocking restart from the
  # activation (or from a unit ordered before sysinit-reactivation.target) can
  # deadlock, which is why sops-nix passes it too (its #934).
  deployCommand = extraFlags: ''
    (
      export HOME=/var/empty
      export PATH=${config.systemd.package}/bin:$PATH
      ${lib.concatStringsSep "\n  " (
        lib.mapAttrsToList (n: v: "export ${n}=${lib.escapeShellArg v}") cfg.environment
      )}
      dry=()
      if [ "''${NIXOS_ACTION-}" = dry-activate ]; then dry=(--dry-run); fi
      ${cfg.package}/bin/secrets deploy ${
        lib.escapeShellArgs (
          [ "--manifest" "${manifest}" "--host" cfg.host "--no-block" ]
          ++ extraFlags
          ++ lib.concatMap (p: [ "--identity" (toString p) ]) cfg.identityPaths
        )
      } "''${dry[@]}"
    )
  '';

  # Keys the unit needs mounted first (impermanence: sops-nix #167).
  unitFor = extraFlags: extra: lib.recursiveUpdate {
    unitConfig.DefaultDependencies = "no";
    unitConfig.RequiresMountsFor = map toString cfg.identityPaths;
    serviceConfig = {
      Type = "oneshot";
      RemainAfterExit = true;
    };
    script = deployCommand extraFlags;
  } extra;

  ownerType = types.either types.str types.int;
  unitList = mkOption {
    type = types.listOf types.str;
    default = [ ];
    example = [ "nginx.service" ];
    description = "Units restarted/reloaded when this file's content changes (not on first install).";
  };

  secretType = types.submodule (
    { config, name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
          description = "File name under /run/secrets (may contain /).";
        };
        sopsFile = mkOption {
          type = types.path;
          default = cfg.defaultSopsFile;
          defaultText = lib.literalExpression "config.secrets.defaultSopsFile";
          description = "The sops file this secret is read from (copied into the store; it stays encrypted).";
        };
        key = mkOption {
          type = types.str;
          default = if cfg.defaultSopsKey != null then cfg.defaultSopsKey else name;
          defaultText = "defaultSopsKey, else the attribute name";
          description = ''"/"-separated path to one value ("db/password"), or sops index syntax; "" for the whole file.'';
        };
        format = mkOption {
          type = types.nullOr (types.enum [ "yaml" "json" "binary" "dotenv" "ini" ]);
          default = null;
          description = "The file's format (binary, dotenv, ini: always the whole file); null: from its name.";
        };
        owner = mkOption {
          type = ownerType;
          default = "root";
          description = "User name or numeric uid.";
        };
        group = mkOption {
          type = ownerType;
          default =
            if builtins.isString config.owner && config.owner != "root" && users ? ${config.owner} then
              users.${config.owner}.group
            else
              "root";
          defaultText = "the owner's primary group, else root";
          description = "Group name or numeric gid.";
        };
        mode = mkOption {
          type = types.str;
          default = "0400";
          description = "Octal mode, at most 0777.";
        };
        path = mkOption {
          type = types.str;
          default = (if config.neededForUsers then "/run/secrets-for-users/" else "/run/secrets/") + config.name;
          defaultText = "/run/secrets/<name> (/run/secrets-for-users/<name> with neededForUsers)";
          description = "Where services find the file; any other path becomes a symlink into /run/secrets.";
        };
        restartUnits = unitList;
        reloadUnits = unitList;
        neededForUsers = mkOption {
          type = types.bool;
          default = false;
          description = "Deploy to /run/secrets-for-users before users are created (root-owned only), e.g. for hashedPasswordFile.";
        };
      };
    }
  );

  templateType = types.submodule (
    { config, name, ... }:
    {
      options = {
        name = mkOption {
          type = types.str;
          default = name;
          description = "File name under /run/secrets/rendered.";
        };
        content = mkOption {
          type = types.nullOr types.lines;
          default = null;
          description = "Template text; use config.secrets.placeholder.<secret> for values.";
        };
        file = mkOption {
          type = types.nullOr types.path;
          default = null;
          description = "A template file instead of content (its placeholders must name absolute files).";
        };
        owner = mkOption {
          type = ownerType;
          default = "root";
        };
        group = mkOption {
          type = ownerType;
          default = "root";
        };
        mode = mkOption {
          type = types.str;
          default = "0400";
        };
        path = mkOption {
          type = types.str;
          default = "/run/secrets/rendered/${config.name}";
        };
        restartUnits = unitList;
        reloadUnits = unitList;
      };
    }
  );
in
{
  options.secrets = {
    package = mkOption {
      type = types.package;
      description = "A package with bin/secrets (see docs/nixos.md for one built from this repository).";
    };
    secrets = mkOption {
      type = types.attrsOf secretType;
      default = { };
    };
    templates = mkOption {
      type = types.attrsOf templateType;
      default = { };
    };
    placeholder = mkOption {
      # Lazy: a whole-file secret's placeholder throws, and must do so only when used.
      type = types.lazyAttrsOf types.str;
      readOnly = true;
      default = lib.mapAttrs (
        n: s: helpers.placeholderFor "secrets.placeholder.${n}" builtins.storeDir s.sopsFile s.key
      ) cfg.secrets;
      defaultText = "{{ <sopsFile>#<key> }} for each secret";
      description = "Template placeholders for each secret's value (as sops.placeholder in sops-nix).";
    };
    defaultSopsFile = mkOption {
      type = types.path;
      description = "The sops file for secrets that set no sopsFile.";
    };
    defaultSopsKey = mkOption {
      type = types.nullOr types.str;
      default = null;
    };
    host = mkOption {
      type = types.str;
      default = config.networking.hostName;
      defaultText = "config.networking.hostName";
      description = "The host name in the manifest (as in `secrets keys add-host`).";
    };
    keepGenerations = mkOption {
      type = types.ints.between 2 1000;
      default = 5;
      description = "Generations kept under /run/secrets.d (at least 2: rollback needs the previous one).";
    };
    identityPaths = mkOption {
      type = types.listOf types.path;
      default = map (k: k.path) (
        lib.filter (k: k.type == "ed25519" && !(lib.hasPrefix "/run/secrets" k.path)) config.services.openssh.hostKeys
      );
      defaultText = "the ed25519 keys of services.openssh.hostKeys";
      description = "Identity files passed as --identity (SSH ed25519 host keys or age key files); never in the store.";
    };
    environment = mkOption {
      type = types.attrsOf types.str;
      default = { };
      description = "Environment for the deploy (values are shell-quoted).";
    };
    useSystemdActivation = mkOption {
      type = types.bool;
      default =
        (options.systemd ? sysusers && config.systemd.sysusers.enable)
        || (options.services ? userborn && config.services.userborn.enable);
      description = "Deploy from systemd units instead of activation scripts (needed with systemd-sysusers or userborn).";
    };
  };

  config = lib.mkIf (cfg.secrets != { } || cfg.templates != { }) (
    lib.mkMerge [
      { system.build.secrets-manifest = manifest; }
      (lib.mkIf (!cfg.useSystemdActivation) {
        system.activationScripts = {
          # After users and groups: owners are resolved from /etc/passwd and /etc/group.
          setupSecrets = lib.stringAfter [ "specialfs" "users" "groups" ] (deployCommand [ ]) // {
            supportsDryActivation = true;
          };
          # Before users: hashedPasswordFile can point into /run/secrets-for-users.
          setupSecretsForUsers = lib.mkIf (secretsForUsers != { }) (
            lib.stringAfter [ "specialfs" ] (deployCommand [ "--needed-for-users" ])
            // {
              supportsDryActivation = true;
            }
          );
          users.deps = lib.mkIf (secretsForUsers != { }) [ "setupSecretsForUsers" ];
        };
      })
      (lib.mkIf cfg.useSystemdActivation {
        systemd.services.secrets-deploy = unitFor [ ] {
          wantedBy = [ "sysinit.target" ];
          after = [ "local-fs.target" "systemd-sysusers.service" "userborn.service" ];
          before = [ "sysinit-reactivation.target" ];
          requiredBy = [ "sysinit-reactivation.target" ];
        };
        systemd.services.secrets-deploy-for-users = lib.mkIf (secretsForUsers != { }) (
          unitFor [ "--needed-for-users" ] {
            wantedBy = [ "systemd-sysusers.service" "userborn.service" ];
            before = [ "systemd-sysusers.service" "userborn.service" ];
          }
        );
      })
    ]
  );
}
