"""The public service mesh simulator (公共サービスメッシュ / 情報提供ネットワークシステム)."""
