function [J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, ...
                                   num_labels, X, y, lambda)
%NNCOSTFUNCTION Raises: the bias column of a1 is forgotten, so the product does not conform.
Theta1 = reshape(nn_params(1:hidden_layer_size * (input_layer_size + 1)), ...
                 hidden_layer_size, (input_layer_size + 1));
m = size(X, 1);
z2 = X * Theta1';
J = sum(z2(:)) / m;
grad = zeros(size(nn_params));
end
