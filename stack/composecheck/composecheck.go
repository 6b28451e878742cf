// Package composecheck loads the repository's docker-compose.yml the way
// `docker compose --env-file stack/versions.env --env-file .env` does, with the Compose
// specification's own loader and without a Docker engine, so that tests can check the Docker
// stack against stack/versions.env (the versions the native launcher runs).
package composecheck

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/joho/godotenv"
)

// Load reads composeFile with the variables of envFiles (a later file wins over an earlier one)
// and nothing else: neither the process environment nor a .env beside the compose file is read,
// so the result depends on the given files only. Relative paths in the file are resolved against
// its directory, as `docker compose -f` does. At least one env file is required.
func Load(ctx context.Context, composeFile string, envFiles ...string) (*types.Project, error) {
	if len(envFiles) == 0 {
		// With no file, compose-go would fall back to the .env beside the compose file.
		return nil, errors.New("load compose file: at least one env file is required")
	}
	abs, err := filepath.Abs(composeFile)
	if err != nil {
		return nil, fmt.Errorf("load compose file %s: %w", composeFile, err)
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithEnvFiles(envFiles...),
		cli.WithDotEnv,
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("load compose file %s: options: %w", composeFile, err)
	}
	p, err := opts.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load compose file %s: %w", composeFile, err)
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
