// Stand-ins for the two kubelet-facing sidecars of the driver DaemonSet, whose modules the Go module proxy
// does not serve (github.com/kubernetes-csi/node-driver-registrar and .../livenessprobe: "not available").
// Same flags as the install passes them, same protocols as the real ones:
//
//	registrar:     asks the driver for its name (CSI GetPluginInfo), then serves the kubelet plugin-registration
//	               API (k8s.io/kubelet/pkg/apis/pluginregistration/v1) on /registration/<name>-reg.sock; exits
//	               non-zero when kubelet reports the registration failed, as node-driver-registrar does.
//	livenessprobe: serves GET /healthz, answering 200 only when CSI Probe on the driver socket succeeds within
//	               --probe-timeout and reports ready.
//
// One binary, the mode is the first argument (the image entrypoint names it).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	csi "github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	registerapi "k8s.io/kubelet/pkg/apis/pluginregistration/v1"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatalf("usage: %s registrar|livenessprobe [flags]", os.Args[0])
	}
	mode, args := os.Args[1], os.Args[2:]
	flags := flag.NewFlagSet(mode, flag.ExitOnError)
	csiAddress := flags.String("csi-address", "/csi/csi.sock", "path of the CSI driver socket")
	flags.Int("v", 0, "log verbosity (accepted for flag compatibility)")
	var err error
	switch mode {
	case "registrar":
		registrationPath := flags.String("kubelet-registration-path", "", "driver socket path on the host, as kubelet sees it")
		pluginRegistrationDir := flags.String("plugin-registration-path", "/registration", "kubelet's plugin registration dir")
		_ = flags.Parse(args)
		err = runRegistrar(*csiAddress, *registrationPath, *pluginRegistrationDir)
	case "livenessprobe":
		probeTimeout := flags.Duration("probe-timeout", time.Second, "timeout of one CSI Probe")
		httpEndpoint := flags.String("http-endpoint", "", "address to serve /healthz on")
		healthPort := flags.Int("health-port", 9808, "port to serve /healthz on when --http-endpoint is empty")
		_ = flags.Parse(args)
		endpoint := *httpEndpoint
		if endpoint == "" {
			endpoint = fmt.Sprintf("0.0.0.0:%d", *healthPort)
		}
		err = runLivenessProbe(*csiAddress, endpoint, *probeTimeout)
	default:
		err = fmt.Errorf("unknown mode %q: use registrar or livenessprobe", mode)
	}
	if err != nil {
		log.Fatalf("%s: %v", mode, err)
	}
}

func dialCSI(address string) (*grpc.ClientConn, error) {
	return grpc.NewClient("unix://"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// driverName asks the driver for its name, retrying while its socket is not served yet.
func driverName(ctx context.Context, address string) (string, error) {
	conn, err := dialCSI(address)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	identity := csi.NewIdentityClient(conn)
	for {
		callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		info, err := identity.GetPluginInfo(callCtx, &csi.GetPluginInfoRequest{})
		cancel()
		if err == nil {
			if info.GetName() == "" {
				return "", errors.New("the driver's GetPluginInfo returned no name")
			}
			return info.GetName(), nil
		}
		log.Printf("waiting for the driver at %s: %v", address, err)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

type registrationServer struct {
	registerapi.UnimplementedRegistrationServer
	name, endpoint string
	failed         chan error
}

func (s *registrationServer) GetInfo(context.Context, *registerapi.InfoRequest) (*registerapi.PluginInfo, error) {
	return &registerapi.PluginInfo{
		Type:              registerapi.CSIPlugin,
		Name:              s.name,
		Endpoint:          s.endpoint,
		SupportedVersions: []string{"1.0.0"},
	}, nil
}

func (s *registrationServer) NotifyRegistrationStatus(_ context.Context, status *registerapi.RegistrationStatus) (*registerapi.RegistrationStatusResponse, error) {
	if !status.PluginRegistered {
		s.failed <- fmt.Errorf("kubelet did not register the plugin: %s", status.Error)
	} else {
		log.Printf("kubelet registered %s at %s", s.name, s.endpoint)
	}
	return &registerapi.RegistrationStatusResponse{}, nil
}

func runRegistrar(csiAddress, registrationPath, registrationDir string) error {
	if registrationPath == "" {
		return errors.New("--kubelet-registration-path is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	name, err := driverName(ctx, csiAddress)
	if err != nil {
		return err
	}
	socket := filepath.Join(registrationDir, name+"-reg.sock")
	if err := os.Remove(socket); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("removing the stale %s: %w", socket, err)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	server := grpc.NewServer()
	registration := &registrationServer{name: name, endpoint: registrationPath, failed: make(chan error, 1)}
	registerapi.RegisterRegistrationServer(server, registration)
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	log.Printf("serving plugin registration of %s on %s", name, socket)
	select {
	case <-ctx.Done():
		server.Stop()
		_ = os.Remove(socket)
		return nil
	case err := <-registration.failed:
		server.Stop()
		return err
	case err := <-served:
		return err
	}
}

func runLivenessProbe(csiAddress, endpoint string, timeout time.Duration) error {
	conn, err := dialCSI(csiAddress)
	if err != nil {
		return err
	}
	defer conn.Close()
	identity := csi.NewIdentityClient(conn)
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		response, err := identity.Probe(ctx, &csi.ProbeRequest{})
		if err != nil {
			http.Error(w, "CSI Probe failed: "+err.Error(), http.StatusInternalServerError)
			return
		}
		if ready := response.GetReady(); ready != nil && !ready.GetValue() {
			http.Error(w, "driver responded but is not ready", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	log.Printf("serving /healthz on %s for %s", endpoint, csiAddress)
	return (&http.Server{Addr: endpoint, Handler: mux, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
}
