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
  placeholderFor =
    where: file: key:
    if key == "" then
      throw "${where}: a placeholder names one value; this secret is a whole file (key = \"\")"
    else
      "{{ ${fileToString file}#${keyToIndexPath where key} }}";
}
