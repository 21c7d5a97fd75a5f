# coreutils and findutils on files the script makes: sort with threads and
# temporary files, split, cp -a, du, df, ls -l, find, xargs, and friends.
# Directory sizes and block counts depend on the filesystem (the overlay's
# upper tmpfs under vkernel, the host's disk natively): only file sizes,
# file blocks and directory names are printed.
set -u
stamp() { touch -h -d '2021-03-04 05:06:07' "$@"; }

# sort: 2 threads, a 1 MiB buffer, so it spills to temporary files in TMPDIR.
awk 'BEGIN { x = 12345; for (i = 0; i < 200000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "%d %s\n", x % 100000, substr("abcdefghijklmnopqrstuvwxyz", x % 26 + 1, 3) } }' > numbers
sort --parallel=2 -S 1M -n -k1,1 -k2 numbers | md5sum
sort --parallel=2 -S 1M -u -t' ' -k2,2 numbers | head -3
sort --parallel=2 -S 1M -r numbers | tail -2
sort -n numbers -o sorted; sort -c -n sorted && echo "sorted in place"
sort --parallel=2 -S 1M -m <(seq 1 2 20) <(seq 2 2 20) | tr '\n' ' '; echo
ls "$TMPDIR" | wc -l

# split and join back.
split -l 30000 -d -a 3 numbers part.
ls part.*
split -n 4 numbers chunk.; wc -c chunk.* | sort -k2
split -b 100k --additional-suffix=.bin numbers bytes.; ls bytes.*
cat part.* | cmp - numbers && echo "parts rejoin"
cat chunk.* bytes.* | md5sum; md5sum < numbers

# A tree with modes, times, a symlink, a hard link and a sparse file.
mkdir -p tree/a/b tree/empty
printf 'alpha\n' > tree/a/one; printf 'beta\n%.0s' {1..500} > tree/a/b/two
ln tree/a/one tree/a/one.hard
ln -s ../one tree/a/b/link
chmod 640 tree/a/one; chmod 750 tree/a/b; chmod 1777 tree/empty
truncate -s 3M tree/sparse; printf 'end' >> tree/sparse
find tree -exec touch -h -d '2021-03-04 05:06:07' {} +
cp -a tree copy
diff -r tree copy && echo "cp -a: same contents"
find copy tree -printf '%p %M %n %TY-%Tm-%Td %TH:%TM %l\n' | sort
[ "$(stat -c %i copy/a/one)" = "$(stat -c %i copy/a/one.hard)" ] && echo "cp -a kept the hard link"
cp -r --sparse=always tree/sparse sparse.copy; du -k sparse.copy tree/sparse
cp --preserve=mode,timestamps tree/a/one kept; stat -c '%n %a %y' kept

# ls -l: files only (a directory's size is its filesystem's business).
ls -l --time-style=long-iso tree/a/one tree/a/one.hard tree/a/b/two
ls -ln --time-style=+%s tree/a/b/link tree/a/one
ls -1 -R tree
ls -lS --time-style=long-iso tree/a/one tree/a/b/two tree/sparse
ls -i tree/a/one tree/a/one.hard | awk '{print $1}' | uniq | wc -l

# du on files: apparent sizes and blocks; a sparse file takes one block.
find tree -type f | sort | xargs du -b
find tree -type f | sort | xargs du -k
du -b -c tree/a/one tree/a/b/two | tail -1
du --apparent-size -b -s tree/sparse

# df: the filesystems differ; the shape of the report does not.
df -P . | awk 'NR == 1 { $1 = $1; print } END { print NR " lines, " NF " fields" }'
df --output=target,fstype . | head -1
df -i . | awk 'END { print NF " fields" }'

# find and xargs.
find tree -name '*o*' -type f | sort
find tree -newer numbers -o -type l -print | sort
find tree -mindepth 2 -maxdepth 2 | sort
find tree -type f -size +1k -printf '%f %s\n' | sort
find tree -perm -1000 -type d
find tree -type f -print0 | sort -z | xargs -0 -n 1 basename
seq 1 100 | xargs -n 7 echo | tail -2
seq 1 20 | xargs -P 2 -n 5 sh -c 'echo $(( $1 + $2 + $3 + $4 + $5 ))' sum | sort -n
printf '%s\n' a b c | xargs -I{} echo "item {}"
find tree -type f | xargs -r grep -l alpha | sort
seq 1 3000 | xargs echo | wc -l -w
printf 'x%.0s' $(seq 1 200000) | wc -c
find . -maxdepth 1 -name 'part.*' -exec rm {} +; ls part.* 2>&1
echo "x y" | xargs -0 printf '[%s]'; echo

# Text tools.
sort -k2 numbers | uniq -f1 -c | sort -rn | head -3 | awk '{print $1, $3}'
cut -d' ' -f2 numbers | sort | uniq | wc -l
head -c 1000 numbers | tr -d '0-9' | tr -s ' \n' | wc -c
paste -sd+ <(seq 1 100) | awk '{ n = split($0, a, "+"); s = 0; for (i = 1; i <= n; i++) s += a[i]; print s }'
nl -ba tree/a/one; tac <(seq 3); rev <<< "abc"; fold -w 7 <<< "the quick brown fox"
printf 'b 2\na 1\nc 3\n' > j1; printf 'a x\nb y\nc z\n' > j2; join <(sort j1) j2
comm -3 <(seq 1 5) <(seq 3 7) | tr '\t' '_'
expand <(printf 'a\tb\n') | od -c | head -1
seq 1 10 | shuf --random-source=numbers | md5sum
sha256sum numbers | cut -c1-16; b2sum -l 64 numbers | cut -d' ' -f1
base64 < tree/a/one; base32 < tree/a/one
factor 123456789 2147483647
numfmt --to=iec 1048576 123456789
date -u -d @1700000000 '+%F %T %A'
stat -c '%n %s %F' numbers tree/a/b/link
readlink -f tree/a/b/link | sed "s|$PWD|.|"
realpath --relative-to=tree/a/b tree/empty
mktemp -p . tmp.XXXXXX | grep -c '^./tmp\.'
install -m 604 -D tree/a/one inst/deep/one; stat -c '%n %a' inst/deep/one
ln -sr numbers rel.link; readlink rel.link
touch -d @0 epoch; stat -c '%Y' epoch
dd if=numbers of=dd.out bs=4096 count=10 skip=2 status=none; wc -c < dd.out
truncate -s 10k tr.f; truncate -s -4k tr.f; stat -c %s tr.f
echo "end"
