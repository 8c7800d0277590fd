package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 uploads backups to s3://Bucket/Prefix<branch>/<file> and fetches them
// back for a restore.
type S3 struct {
	Client *s3.Client
	Bucket string
	// Prefix is prepended to every key (e.g. "backups/").
	Prefix string
	Branch string
	// SSE is the server-side encryption (aws:kms by default; "none" disables it).
	SSE string
}

var _ Uploader = (*S3)(nil)

func (u *S3) key(name string) string {
	return path.Join(strings.TrimSuffix(u.Prefix, "/"), u.Branch, name)
}

// Upload implements Uploader.
func (u *S3) Upload(ctx context.Context, name, file string) (string, error) {
	f, err := os.Open(file) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(u.Bucket), Key: aws.String(u.key(name)), Body: f,
		ContentLength: aws.Int64(fi.Size()), ContentType: aws.String("application/vnd.sqlite3"),
	}
	switch u.SSE {
	case "none":
	case "":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
	default:
		in.ServerSideEncryption = types.ServerSideEncryption(u.SSE)
	}
	if _, err := u.Client.PutObject(ctx, in); err != nil {
		return "", err
	}
	return "s3://" + u.Bucket + "/" + u.key(name), nil
}

// Latest returns the name of the newest backup of the branch in the bucket.
func (u *S3) Latest(ctx context.Context) (string, error) {
	var names []string
	p := s3.NewListObjectsV2Paginator(u.Client, &s3.ListObjectsV2Input{Bucket: aws.String(u.Bucket), Prefix: aws.String(u.key(Prefix))})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, o := range page.Contents {
			n := path.Base(aws.ToString(o.Key))
			if strings.HasPrefix(n, Prefix) && strings.HasSuffix(n, Suffix) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return "", errors.New("backup: no backup of " + u.Branch + " in s3://" + u.Bucket + "/" + u.key(""))
	}
	sort.Strings(names)
	return names[len(names)-1], nil
}

// Download writes the backup name into the file to (0600).
func (u *S3) Download(ctx context.Context, name, to string) error {
	out, err := u.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(u.Bucket), Key: aws.String(u.key(name))})
	if err != nil {
		return fmt.Errorf("backup: download %s: %w", name, err)
	}
	defer out.Body.Close()
	f, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600) // #nosec G304 -- path from the operator's configuration (flag, env or data directory), never from a request
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, out.Body); err != nil {
		f.Close()
		return fmt.Errorf("backup: download %s: %w", name, err)
	}
	return f.Close()
}
