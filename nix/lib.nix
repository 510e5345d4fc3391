# Small pure helpers shared by manifest.nix and module.nix. Builtins only, so that
# `nix-instantiate --eval` runs them without nixpkgs (the tests do exactly that).
let
  inherit (builtins)
    attrNames
    concatStringsSep
    filter
    hasAttr
    isPath
    isString
    length
    split
    stringLength
    substring
    ;

  # True when `text` contains the (regex-free) character `char`.
  hasChar = char: text: length (split char text) > 1;

  # A mapping key in sops index syntax. tree-path.ts strips the quotes and unescapes
  # nothing (as sops does), so a key holding both quote characters cannot be written.
  quoteSegment =
    where: segment:
    if !hasChar "\"" segment then
      "[\"${segment}\"]"
    else if !hasChar "'" segment then
      "['${segment}']"
    else
      throw "${where}: the key segment ${segment} contains both \" and ', which sops index syntax cannot name";
in
rec {
  # sops-nix's `key` is a "/"-separated path through nested mappings
  # (sops-install-secrets splits on every "/"; "" means the whole file). The
  # manifest takes sops index syntax, so "db/password" becomes ["db"]["password"].
  # A key already written in index syntax (starting with "[") passes through, which
  # also allows list indexes such as ["hosts"][0] that sops-nix's syntax cannot say.
  keyToIndexPath =
    where: key:
    if key == "" then
      ""
    else if substring 0 1 key == "[" then
      key
    else
      concatStringsSep "" (map (quoteSegment where) (filter isString (split "/" key)));

  # A Nix path value is copied into the store (as sops-nix does with sopsFile), so
  # the manifest names an absolute file that exists at activation; strings pass as is.
  fileToString = file: if isPath file then "${file}" else file;

  # Attributes of `given` that `known` does not declare: a typo must fail evaluation,
  # not silently deploy 0400 root:root instead of what was meant.
  unknownAttrs = known: given: filter (name: !(hasAttr name known)) (attrNames given);

  optionalAttrs = cond: attrs: if cond then attrs else { };

  # The template placeholder (src/delivery/template.ts syntax) for one value of a
  # sops file, as sops-nix's `sops.placeholder.<name>` is for its templates.
  # `secrets deploy` reads a placeholder's file relative to the manifest's directory
  # and refuses absolute paths and ".." (template-values.ts: a template must not
  # pick files outside it), so the placeholder names the file relative to
  # `manifestDir`: the module writes its manifest into the store, so that is
  # builtins.storeDir, and a sopsFile given as a Nix path is a store file in it.
  placeholderFor =
    where: manifestDir: file: key:
    let
      path = fileToString file;
      prefix = "${manifestDir}/";
      prefixLength = stringLength prefix;
    in
    if key == "" then
      throw "${where}: a placeholder names one value; this secret is a whole file (key = \"\")"
    else if substring 0 prefixLength path != prefix then
      throw "${where}: a placeholder's file must be under ${manifestDir}, where the manifest is; give sopsFile as a Nix path (./secrets.yaml) so that it is copied into the store, not as the string ${path}"
    else
      "{{ ${substring prefixLength (stringLength path) path}#${keyToIndexPath where key} }}";
}
