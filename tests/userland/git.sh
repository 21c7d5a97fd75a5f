# git with fixed names and dates, so commit ids are the same every run:
# init, add, commit, log, diff, status, branches, merge, tags, stash, gc
# and a clone. HOME is the test's scratch home: `git config --global`
# writes there.
set -eu
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.com GIT_AUTHOR_DATE="2005-04-07T22:13:13Z"
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.com GIT_COMMITTER_DATE="2005-04-07T22:13:13Z"
export GIT_CONFIG_NOSYSTEM=1
git config --global user.name "Test User"
git config --global user.email test@example.com
git config --global init.defaultBranch main
git config --global core.pager cat
git config --global advice.detachedHead false
git init -q repo
cd repo
printf 'line %s\n' $(seq 1 20) > file.txt
mkdir -p dir/sub; echo nested > dir/sub/deep.txt; printf '#!/bin/sh\n' > run.sh; chmod +x run.sh
git status --short
git add .
git status
git commit -q -m "first commit"
git log --format='%H %an <%ae> %ad %s' --date=iso-strict
sed -i 's/line 5/line five/; $a line 21' file.txt
echo untracked > new.txt
git status --short
git diff
git diff --stat
git commit -q -am "second: change and append"
git rm -q dir/sub/deep.txt; git mv run.sh tool.sh
git commit -q -m "third: remove and rename"
git log --oneline --stat
git show --format='%h %s' --name-status HEAD
git checkout -q -b feature HEAD~1
echo feature >> file.txt; git commit -q -am "feature work"
git checkout -q main
git merge -q --no-edit feature 2>&1 || true
git log --graph --oneline --all
git tag -a v1 -m "version one"; git tag light HEAD~2
git describe --tags; git tag -l
echo stash me >> file.txt; git stash -q; git stash list; git status --short; git stash pop -q; git diff --shortstat; git checkout -q -- file.txt
git branch -a; git rev-parse HEAD HEAD^{tree}
git cat-file -p HEAD | sed '/^$/q'
git ls-files -s | head -3
git blame -s file.txt | sed -n '4,6p'
git grep -n five
git gc -q; git count-objects -v | grep -E '^(count|in-pack|packs)'
git fsck --no-progress 2>&1 | grep -v '^Checking' || true
cd ..
git clone -q repo clone
git -C clone log --oneline -1
git -C clone status --branch --short
git -C repo log --oneline -1 --decorate
git -C repo archive --format=tar HEAD | tar -tf - | sort
git -C repo diff v1 light --stat | tail -1
git -C repo shortlog -sn HEAD
