// Package composecheck loads the repository's docker-compose.yml (alone, or with the override
// docker-compose.cluster.yml merged over it) the way
// `docker compose --env-file stack/versions.env --env-file .env [-f ...]` does, with the Compose
// specification's own loader and without a Docker engine, so that tests can check the Docker
// stack against stack/versions.env (the versions the native launcher runs).
package composecheck

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/joho/godotenv"
)

// Load reads composeFile with the variables of envFiles (a later file wins over an earlier one)
// and nothing else: neither the process environment nor a .env beside the compose file is read,
// so the result depends on the given files only. Relative paths in the file are resolved against
// its directory, as `docker compose -f` does. At least one env file is required.
func Load(ctx context.Context, composeFile string, envFiles ...string) (*types.Project, error) {
	return LoadFiles(ctx, []string{composeFile}, envFiles...)
}

// LoadFiles is Load for several compose files merged in order, as
// `docker compose -f first -f second ...` merges them: a later file overrides an earlier one by
// the Compose merge rules, and relative paths resolve against the first file's directory (the
// project directory).
func LoadFiles(ctx context.Context, composeFiles []string, envFiles ...string) (*types.Project, error) {
	if len(composeFiles) == 0 {
		return nil, errors.New("load compose file: no compose file given")
	}
	what := strings.Join(composeFiles, ", ")
	if len(envFiles) == 0 {
		// With no file, compose-go would fall back to the .env beside the compose file.
		return nil, errors.New("load compose file: at least one env file is required")
	}
	abs := make([]string, len(composeFiles))
	for i, f := range composeFiles {
		a, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("load compose file %s: %w", what, err)
		}
		abs[i] = a
	}
	opts, err := cli.NewProjectOptions(abs,
		cli.WithWorkingDirectory(filepath.Dir(abs[0])),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load compose file %s: options: %w", what, err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load compose file %s: %w", what, err)
	}
	return p, nil
}

// ReadEnvFile parses a KEY=VALUE file such as stack/versions.env (comments and blank lines
// allowed) with a parser independent of the Compose loader's.
func ReadEnvFile(path string) (map[string]string, error) {
	m, err := godotenv.Read(path)
	if err != nil {
		return nil, fmt.Errorf("read env file %s: %w", path, err)
	}
	return m, nil
}
