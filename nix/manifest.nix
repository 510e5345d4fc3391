# Module-style options (as sops-nix's sops.secrets / sops.templates) -> the deploy
# manifest that `secrets deploy --manifest FILE --host HOST` reads (the shape of the
# `secrets:` value of .sops.yaml; src/config/deploy-manifest.ts validates it).
#
# Pure: builtins only, no nixpkgs, so `nix-instantiate --eval --strict --json`
# evaluates it anywhere (test/unit/nix/manifest-nix.test.ts). module.nix wraps it.
{
  secrets ? { },
  templates ? { },
  host,
  keepGenerations ? 5,
}:
let
  inherit (builtins) attrNames elem mapAttrs toJSON;
  helpers = import ./lib.nix;
  inherit (helpers) keyToIndexPath fileToString unknownAttrs optionalAttrs;

  secretDefaults = {
    name = null; # the attribute name
    sopsFile = null; # required
    key = ""; # "" = the whole file
    format = null; # null = the file's own format (by its name, as sops picks it)
    owner = "root";
    group = "root";
    mode = "0400";
    path = null;
    restartUnits = [ ];
    reloadUnits = [ ];
    neededForUsers = false;
  };

  templateDefaults = {
    name = null;
    content = null;
    file = null;
    owner = "root";
    group = "root";
    mode = "0400";
    path = null;
    restartUnits = [ ];
    reloadUnits = [ ];
  };

  formats = [ "yaml" "json" "binary" "dotenv" "ini" ];

  # deploy switches and prunes these itself, so a `path` link cannot live there
  # (src/config/deploy-manifest.ts refuses it too; failing here fails the build,
  # not the activation).
  ownTree =
    path:
    builtins.any (t: path == t || builtins.substring 0 (builtins.stringLength t + 1) path == "${t}/") [
      "/run/secrets"
      "/run/secrets.d"
      "/run/secrets-for-users"
      "/run/secrets-for-users.d"
    ];

  # Rejects misspelt options before anything is merged with the defaults.
  withDefaults =
    where: defaults: given:
    let
      unknown = unknownAttrs defaults given;
    in
    if unknown != [ ] then
      throw "${where}: unknown option ${toJSON unknown}; known: ${toJSON (attrNames defaults)}"
    else
      defaults // given;

  # root is uid and gid 0 on every Linux; written as 0 so that nothing is looked up,
  # which needed_for_users entries require (they deploy before users exist).
  account = a: if a == "root" then 0 else a;

  # Owner, group, mode, units: the same fields for secrets and templates. `path` is
  # only written when it differs from where the file already is (sops-nix makes a
  # link only for a path other than the default).
  common =
    o: defaultPath:
    if o.path != null && o.path != defaultPath && ownTree o.path then
      throw "${o.where}.path: ${o.path} is inside the trees deploy manages; leave path unset for ${defaultPath}"
    else
    {
      owner = account o.owner;
      group = account o.group;
      inherit (o) mode;
    }
    // optionalAttrs (o.path != null && o.path != defaultPath) { inherit (o) path; }
    // optionalAttrs (o.restartUnits != [ ]) { restart_units = o.restartUnits; }
    // optionalAttrs (o.reloadUnits != [ ]) { reload_units = o.reloadUnits; };

  secretEntry =
    attrName: given:
    let
      where = "secrets.${attrName}";
      s = withDefaults where secretDefaults given;
      name = if s.name == null then attrName else s.name;
      # sops-install-secrets ignores `key` for these formats: the whole file is the
      # secret. Kept, so a configuration moved from sops-nix deploys the same files.
      wholeFileFormat = elem s.format [ "binary" "dotenv" "ini" ];
      key = if wholeFileFormat then "" else s.key;
      defaultPath = (if s.neededForUsers then "/run/secrets-for-users/" else "/run/secrets/") + name;
    in
    if s.sopsFile == null then
      throw "${where}.sopsFile: required (the sops file this secret is read from)"
    else if s.format != null && !(elem s.format formats) then
      throw "${where}.format: expected one of ${toJSON formats}, got ${toJSON s.format}"
    else if s.neededForUsers && !(elem s.owner [ "root" 0 ] && elem s.group [ "root" 0 ]) then
      # Deployed before users and groups exist, so only root can be resolved (sops-nix
      # asserts the same).
      throw "${where}: neededForUsers secrets are owned by root:root; remove owner/group"
    else
      {
        inherit name;
        file = fileToString s.sopsFile;
      }
      // optionalAttrs (key != "") { key = keyToIndexPath where key; }
      # In sops-nix `format` is the file's format and the output is that format;
      # the manifest's `format` converts a whole file, so it is only written then.
      // optionalAttrs (key == "" && s.format != null) { inherit (s) format; }
      // common (s // { inherit where; }) defaultPath
      // optionalAttrs s.neededForUsers { needed_for_users = true; };

  # Templates land under rendered/ as in sops-nix (/run/secrets/rendered/<name>).
  templateEntry =
    attrName: given:
    let
      where = "templates.${attrName}";
      t = withDefaults where templateDefaults given;
      name = if t.name == null then attrName else t.name;
    in
    if t.content != null && t.file != null then
      throw "${where}: set content or file, not both"
    else if t.content == null && t.file == null then
      throw "${where}: set content (inline text) or file (a template file)"
    else
      { name = "rendered/${name}"; }
      // (if t.file != null then { template = fileToString t.file; } else { inherit (t) content; })
      // common (t // { inherit where; }) "/run/secrets/rendered/${name}";

  entries =
    map (n: secretEntry n secrets.${n}) (attrNames secrets)
    ++ map (n: templateEntry n templates.${n}) (attrNames templates);
in
{
  deploy = {
    ${host} = entries;
  };
  deploy_options = {
    keep_generations = keepGenerations;
  };
}
